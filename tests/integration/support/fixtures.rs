//! Valid enrollment events made up in code, for tests that need many distinct ones, and jobs
//! journaled in any state the way the spooler (and staff) would have left them.

use std::io::Cursor;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use image::{ImageBuffer, Rgb, Rgba};

use cardspool::domain::event::{parse_event, EnrollmentEvent, ImageLimits};
use cardspool::domain::job::{Actor, JobId, JobState};
use cardspool::journal::{Admission, CardOutcome, JobUpdate, Journal, NewCard, Step, StoredAuthorization};

fn jpeg(width: u32, height: u32, shade: u8) -> Vec<u8> {
    let image: ImageBuffer<Rgb<u8>, Vec<u8>> =
        ImageBuffer::from_fn(width, height, |x, y| Rgb([shade, (x * 7) as u8, (y * 5) as u8]));
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg).expect("encode JPEG");
    bytes
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image: ImageBuffer<Rgba<u8>, Vec<u8>> = ImageBuffer::from_fn(width, height, |x, y| {
        if (x + y) % 9 == 0 {
            Rgba([10, 10, 60, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).expect("encode PNG");
    bytes
}

/// A valid event; `n` makes the NIK's serial distinct (`150201520385` + `n % 9999 + 1`, four
/// digits), and every tenth (`n % 10 == 0`) is urgent.
pub fn synthetic_event(event_id: &str, n: u32) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::json!({
        "schema": 1,
        "event_id": event_id,
        "type": "enrollment.completed",
        "occurred_at": "2026-11-27T09:12:00+07:00",
        "office": "1502",
        "priority": if n % 10 == 0 { "urgent" } else { "normal" },
        "nik": format!("150201520385{:04}", (n % 9_999) + 1),
        "name": "HAMIDAH",
        "birth_place": "BANGKO",
        "birth_date": "1985-03-12",
        "sex": "PEREMPUAN",
        "blood_type": "O",
        "address": {"street": "JL. SUDIRMAN NO. 1", "rt_rw": "001/002", "village": "PASAR BANGKO",
                    "district": "BANGKO", "regency": "MERANGIN", "province": "JAMBI"},
        "religion": "ISLAM",
        "marital_status": "KAWIN",
        "occupation": "WIRASWASTA",
        "citizenship": "WNI",
        "valid_until": "SEUMUR HIDUP",
        "photo": b64.encode(jpeg(30, 40, (n % 200) as u8)),
        "signature": b64.encode(png(40, 16)),
    })
}

pub fn synthetic_payload(event_id: &str, n: u32) -> Vec<u8> {
    serde_json::to_vec(&synthetic_event(event_id, n)).expect("serialise")
}

/// The event of a payload, validated as intake would.
pub fn parsed(payload: &[u8]) -> EnrollmentEvent {
    parse_event(payload, &ImageLimits::default()).expect("a valid event")
}

/// Journals the synthetic event `n` under `event_id` as intake would (payload, validation,
/// admission) for the `ektp` template.
pub async fn admit(journal: &Journal, event_id: &str, n: u32, at: DateTime<Utc>) -> Admission {
    let payload = synthetic_payload(event_id, n);
    journal.admit(&parsed(&payload), &payload, "ektp", at).await.expect("admit")
}

/// A new job for the synthetic event `n`, with an event id of its own.
pub async fn new_job(journal: &Journal, n: u32, at: DateTime<Utc>) -> JobId {
    admit(journal, &uuid::Uuid::new_v4().to_string(), n, at).await.job_id()
}

/// A new job walked along `path` from `awaiting_authorization` (where admission leaves it), each step as the spooler would take it
/// (reason `test: STATE`), a step to `held` as a staff member would (with where it was held from).
pub async fn job_along(journal: &Journal, n: u32, path: &[JobState], at: DateTime<Utc>) -> JobId {
    let job = new_job(journal, n, at).await;
    walk(journal, job, JobState::AwaitingAuthorization, path, at).await;
    job
}

/// Takes `job`, now in `from`, along `path`.
pub async fn walk(journal: &Journal, job: JobId, from: JobState, path: &[JobState], at: DateTime<Utc>) {
    let mut from = from;
    for &to in path {
        journal.transition(job, &step(from, to, at)).await.expect("a step the test plans");
        from = to;
    }
}

fn step(from: JobState, to: JobState, at: DateTime<Utc>) -> Step {
    let step = Step::system(from, to, format!("test: {to}"), at);
    if to == JobState::Held {
        let update = JobUpdate { held_from: Some(Some(from)), ..JobUpdate::default() };
        Step { actor: Actor::Staff("test".into()), ..step }.with(update)
    } else {
        step
    }
}

/// The way the spooler takes a job from `awaiting_authorization` (where admission leaves it)
/// to `state`.
pub fn path_to(state: JobState) -> &'static [JobState] {
    use JobState::{Authorized, AwaitingAuthorization, Failed, Printed, Printing, Rejected, Rendered, Unknown};
    match state {
        AwaitingAuthorization => &[],
        Failed => &[Failed],
        Rejected => &[Rejected],
        Authorized => &[Authorized],
        Rendered => &[Authorized, Rendered],
        Printing => &[Authorized, Rendered, Printing],
        Printed => &[Authorized, Rendered, Printing, Printed],
        Unknown => &[Authorized, Rendered, Printing, Unknown],
        other => panic!("no test path to {other}"),
    }
}

/// A job `printing` on `printer`, its card not yet recorded in the ledger.
pub async fn job_on_printer(journal: &Journal, n: u32, printer: &str, at: DateTime<Utc>) -> JobId {
    let job = job_along(journal, n, path_to(JobState::Rendered), at).await;
    let update = JobUpdate { printer: Some(Some(printer.to_owned())), ..JobUpdate::default() };
    let sent = Step::system(JobState::Rendered, JobState::Printing, "test: printing", at).with(update);
    journal.transition(job, &sent).await.expect("rendered to printing");
    job
}

/// The event of a job made by [`job_in`], for checks that its secrets never come back.
pub struct JobMade {
    pub id: JobId,
    pub event: serde_json::Value,
}

/// A job in `state` as the spooler leaves it there: from `authorized` on with central's stored
/// authorization (which names the full NIK), from `printing` on on printer `card-1` with its
/// card in the ledger (printed, or unknown: "printer forgot").
pub async fn job_in(journal: &Journal, n: u32, state: JobState, at: DateTime<Utc>) -> JobMade {
    let event = synthetic_event(&uuid::Uuid::new_v4().to_string(), n);
    let payload = serde_json::to_vec(&event).expect("serialise");
    let job = journal.admit(&parsed(&payload), &payload, "ektp", at).await.expect("admit").job_id();
    let authorization = serde_json::json!({
        "authorization_id": format!("auth-{n}"), "nik": event["nik"], "enrollment_id": "e",
        "issued_at": "2026-11-27T02:00:00Z", "expires_at": "2026-11-28T02:00:00Z",
        "key_id": "k", "signature": "c2lnbmF0dXJl"
    })
    .to_string();
    let authorization = StoredAuthorization {
        json: authorization,
        id: format!("auth-{n}"),
        expires_at: DateTime::parse_from_rfc3339("2026-11-28T02:00:00Z").expect("a time").with_timezone(&Utc),
    };
    let card = NewCard { job_id: Some(job), printer: "card-1", printer_job_id: Some(7), at, utc_offset_minutes: 420 };
    let mut from = JobState::AwaitingAuthorization;
    for &to in path_to(state) {
        let mut update = JobUpdate::default();
        match to {
            JobState::Authorized => update.authorization = Some(Some(authorization.clone())),
            JobState::Printing => update.printer = Some(Some("card-1".into())),
            JobState::Printed => journal.settle_card(job, &card, CardOutcome::Printed, "").await.expect("settle"),
            JobState::Unknown => {
                journal.settle_card(job, &card, CardOutcome::Unknown, "printer forgot").await.expect("settle");
            }
            _ => {}
        }
        journal.transition(job, &step(from, to, at).with(update)).await.expect("a step the test plans");
        if to == JobState::Printing {
            journal.record_card_sent(job, &card).await.expect("record the card");
        }
        from = to;
    }
    JobMade { id: job, event }
}
