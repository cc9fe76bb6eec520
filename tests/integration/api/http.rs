//! The staff API in-process, over real HTTP on 127.0.0.1:0, against a journal of its own
//! (SQLite in a temp dir; the list and search queries also on PostgreSQL).

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::api::{self, Harness, OPERATOR, SUPERVISOR, VIEWER};
use crate::support::fixtures::{parsed, synthetic_event, synthetic_payload};
use crate::support::{journal, on_both_backends};
use cardspool::central::Verdict;
use cardspool::domain::job::{Actor, JobId, JobState};
use cardspool::journal::{CardOutcome, Journal, NewRejection};
use cardspool::render::TemplateStore;

fn last_entry(detail: &Value) -> &Value {
    detail["history"].as_array().unwrap().last().unwrap()
}

#[tokio::test]
async fn requests_need_a_known_token_and_enough_role() {
    let api = Harness::start().await;
    let job = api.job_in(1, JobState::AwaitingAuthorization).await;
    let printed = api.job_in(2, JobState::Printed).await;

    let (status, body) = api.get("/api/v1/jobs", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "unauthenticated");
    let (status, _) = api.get("/api/v1/summary", Some("not-a-token-of-anyone")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = api.request(reqwest::Method::POST, &format!("/api/v1/jobs/{job}/hold"), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A viewer sees, but does not act.
    api.get_ok("/api/v1/jobs").await;
    let (status, body) = api.post(&format!("/api/v1/jobs/{job}/hold"), VIEWER, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"].as_str().unwrap().contains("operator"), "{body}");
    assert_eq!(api.state_of(job).await, JobState::AwaitingAuthorization);

    // An operator holds, but a reprint needs a supervisor.
    let (status, _) = api.post(&format!("/api/v1/jobs/{job}/hold"), OPERATOR, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        api.post(&format!("/api/v1/jobs/{printed}/reprint"), OPERATOR, json!({"reason": "lost"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"].as_str().unwrap().contains("supervisor"), "{body}");
    let (status, body) = api
        .post(&format!("/api/v1/jobs/{printed}/reprint"), SUPERVISOR, json!({"reason": "card lost at the counter"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["job"]["state"], "awaiting_authorization");

    // Health and metrics need no token.
    assert_eq!(api.get("/healthz", None).await.0, StatusCode::OK);
    assert_eq!(api.get("/metrics", None).await.0, StatusCode::OK);
    api.assert_no_secrets();
}

#[tokio::test]
async fn an_address_that_sends_ten_wrong_tokens_is_refused_for_a_minute_even_with_a_right_one() {
    let api = Harness::start().await;
    for n in 0..10 {
        let (status, body) = api.get("/api/v1/summary", Some(&format!("guess-{n:016}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let response = api.client.get(format!("{}/api/v1/summary", api.base)).bearer_auth(VIEWER).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "too_many", "{body}");
    // Health checks need no token and are not limited.
    assert_eq!(api.get("/healthz", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_spooler_without_staff_tokens_says_so() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (journal, _dir) = journal::sqlite().await;
    let listener = cardspool::http::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let api = cardspool::http::Api::new(journal, &[], cardspool::clock::Clock::system());
    tokio::spawn(api.serve(listener, std::future::pending()));
    let response = reqwest::Client::new().get(format!("{base}/api/v1/jobs")).bearer_auth(VIEWER).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "no_tokens_configured", "{body}");
    assert!(body["error"].as_str().unwrap().contains("[[api.tokens]]"), "{body}");
    // The command line says so too, and does not ask for a token no token could satisfy.
    let output = tokio::process::Command::new(crate::support::services::binary())
        .args(["jobs", "list", "--api", &base])
        .env_remove("CARDSPOOL_TOKEN")
        .env("CARDSPOOL_LANG", "en")
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && said.contains("[[api.tokens]]"), "{said}");
    assert!(!said.contains("--token"), "{said}");
}

#[tokio::test]
async fn each_action_moves_the_job_and_names_the_staff_member_in_the_audit_trail() {
    let api = Harness::start().await;

    // hold and release: back to where it was held from.
    let job = api.job_in(1, JobState::Rendered).await;
    let (status, body) =
        api.post(&format!("/api/v1/jobs/{job}/hold"), OPERATOR, json!({"reason": "address to check"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["job"]["state"], "held");
    assert_eq!(body["job"]["held_from"], "rendered");
    let detail = api.get_ok(&format!("/api/v1/jobs/{job}")).await;
    let entry = last_entry(&detail);
    assert_eq!((entry["from"].as_str(), entry["to"].as_str()), (Some("rendered"), Some("held")));
    assert_eq!(entry["actor"], json!({"kind": "staff", "name": "rina"}));
    assert_eq!(entry["reason"], "held by rina: address to check");
    assert_eq!(detail["actions"], json!(["release", "cancel"]));
    let history = api.journal.history(job).await.unwrap();
    assert_eq!(history.last().unwrap().actor, Actor::Staff("rina".into()), "the journal records the staff member");
    let (status, body) = api.post(&format!("/api/v1/jobs/{job}/release"), OPERATOR, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["job"]["state"], "rendered");
    assert_eq!(body["job"]["held_from"], Value::Null);

    // cancel, with an empty body.
    let job = api.job_in(2, JobState::AwaitingAuthorization).await;
    let (status, _) =
        api.request(reqwest::Method::POST, &format!("/api/v1/jobs/{job}/cancel"), Some(OPERATOR), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api.state_of(job).await, JobState::Cancelled);
    assert_eq!(last_entry(&api.get_ok(&format!("/api/v1/jobs/{job}")).await)["reason"], "cancelled by rina");
    // Upstream hears that staff cancelled the card, not who: names stay in the office's audit trail.
    let outbox = api.journal.unpublished(1000).await.unwrap();
    let cancelled = outbox.iter().find(|m| m.routing_key == "card.cancelled").expect("a card.cancelled status event");
    assert!(cancelled.body.contains("\"reason\":\"cancelled by staff\""), "{}", cancelled.body);
    assert!(outbox.iter().all(|m| !m.body.contains("rina")), "no staff name in a status event");

    // A held job can be cancelled too.
    let job = api.job_in(9, JobState::Authorized).await;
    api.post(&format!("/api/v1/jobs/{job}/hold"), OPERATOR, json!({})).await;
    let (status, body) =
        api.post(&format!("/api/v1/jobs/{job}/cancel"), OPERATOR, json!({"reason": "duplicate"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["job"]["state"].as_str(), &body["job"]["held_from"]), (Some("cancelled"), &Value::Null));

    // retry a failed job: central is asked again, from scratch.
    let job = api.job_in(3, JobState::Failed).await;
    let (status, body) =
        api.post(&format!("/api/v1/jobs/{job}/retry"), OPERATOR, json!({"reason": "central fixed"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let record = api.journal.job(job).await.unwrap().unwrap();
    assert_eq!((record.state, record.attempts, record.next_attempt_at), (JobState::AwaitingAuthorization, 0, None));

    // reprint a printed card: a fresh authorization, no printer yet.
    let job = api.job_in(4, JobState::Printed).await;
    let (status, body) =
        api.post(&format!("/api/v1/jobs/{job}/reprint"), SUPERVISOR, json!({"reason": "chip faulty"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let record = api.journal.job(job).await.unwrap().unwrap();
    assert_eq!((record.state, record.authorization, record.printer), (JobState::AwaitingAuthorization, None, None));
    assert_eq!(last_entry(&api.get_ok(&format!("/api/v1/jobs/{job}")).await)["actor"]["name"], "sari");

    // spoiled: needs a reason; the blank goes spoiled in the ledger.
    let job = api.job_in(5, JobState::Printed).await;
    let (status, body) = api.post(&format!("/api/v1/jobs/{job}/spoiled"), OPERATOR, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) =
        api.post(&format!("/api/v1/jobs/{job}/spoiled"), OPERATOR, json!({"reason": "photo smeared"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["job"]["state"], "spoiled");
    assert!(body["ledger"].as_str().unwrap().contains("recorded spoiled"), "{body}");
    let cards = api.journal.cards_of_job(job).await.unwrap();
    assert_eq!(cards.iter().map(|c| c.outcome).collect::<Vec<_>>(), [CardOutcome::Spoiled]);
    assert_eq!(cards[0].reason, "marked spoiled by rina: photo smeared");

    // resolve a job in doubt, each outcome, with the ledger following.
    for (n, outcome, state, card) in [
        (6, "printed", JobState::Printed, CardOutcome::Printed),
        (7, "not_printed", JobState::Rendered, CardOutcome::NotFed),
        (8, "spoiled", JobState::Spoiled, CardOutcome::Spoiled),
    ] {
        let job = api.job_in(n, JobState::Unknown).await;
        let path = format!("/api/v1/jobs/{job}/resolve");
        let (status, body) = api.post(&path, SUPERVISOR, json!({"reason": "output tray checked"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "an outcome is needed: {body}");
        let (status, body) = api.post(&path, OPERATOR, json!({"reason": "tray", "outcome": outcome})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, body) =
            api.post(&path, SUPERVISOR, json!({"reason": "output tray checked", "outcome": outcome})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(api.state_of(job).await, state, "{outcome}");
        let cards = api.journal.cards_of_job(job).await.unwrap();
        assert_eq!(cards.last().unwrap().outcome, card, "{outcome}");
        let entry = last_entry(&api.get_ok(&format!("/api/v1/jobs/{job}")).await).clone();
        assert_eq!(entry["actor"]["name"], "sari");
        assert!(entry["reason"].as_str().unwrap().starts_with("resolved by sari as "), "{entry}");
    }
    api.assert_no_secrets();
}

#[tokio::test]
async fn an_illegal_step_is_a_conflict_with_the_reason() {
    let api = Harness::start().await;
    let printed = api.job_in(1, JobState::Printed).await;
    let printing = api.job_in(2, JobState::Printing).await;
    for (job, action, body, why) in [
        (printed, "hold", json!({}), "cannot go from printed to held"),
        (printed, "cancel", json!({}), "cannot go from printed to cancelled"),
        (printed, "release", json!({}), "not held"),
        (printing, "hold", json!({}), "cannot go from printing to held"),
        (printing, "spoiled", json!({"reason": "r"}), "wait for the printer"),
        (printed, "retry", json!({}), "needs a reprint"),
    ] {
        let (status, answer) = api.post(&format!("/api/v1/jobs/{job}/{action}"), SUPERVISOR, body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{action}: {answer}");
        assert_eq!(answer["code"], "conflict");
        assert!(answer["error"].as_str().unwrap().contains(why), "{action}: {answer}");
    }
    assert_eq!(api.state_of(printed).await, JobState::Printed);
    assert_eq!(api.state_of(printing).await, JobState::Printing);
    assert_eq!(api.journal.history(printed).await.unwrap().len(), 5, "nothing recorded");

    // Unknown routes, jobs and actions are 404; malformed bodies and filters 400.
    let missing = JobId::new();
    assert_eq!(api.get(&format!("/api/v1/jobs/{missing}"), Some(VIEWER)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.get("/api/v1/jobs/not-a-job", Some(VIEWER)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.post(&format!("/api/v1/jobs/{printed}/burn"), SUPERVISOR, json!({})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.post(&format!("/api/v1/jobs/{missing}/hold"), OPERATOR, json!({})).await.0, StatusCode::NOT_FOUND);
    let (status, body) = api.post(&format!("/api/v1/jobs/{printed}/hold"), OPERATOR, json!({"reasn": "typo"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(api.get("/api/v1/jobs?state=lost", Some(VIEWER)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.get("/api/v1/jobs?limit=0", Some(VIEWER)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.get("/api/v1/jobs?cursor=xyz", Some(VIEWER)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.get("/api/v1/nothing", Some(VIEWER)).await.0, StatusCode::NOT_FOUND);
}

/// Texts for people follow `?lang=` or `Accept-Language`; a request that names neither gets
/// them as stored, in English, as the API always answered.
#[tokio::test]
async fn texts_for_people_come_in_the_language_asked_for() {
    let api = Harness::start().await;
    let job = api.job_in(1, JobState::Rendered).await;
    let (status, _) = api.post(&format!("/api/v1/jobs/{job}/hold"), OPERATOR, json!({"reason": "alamat dicek"})).await;
    assert_eq!(status, StatusCode::OK);

    let english = api.get_ok(&format!("/api/v1/jobs/{job}")).await;
    assert_eq!(last_entry(&english)["reason"], "held by rina: alamat dicek");
    let (_, indonesian) = api.get(&format!("/api/v1/jobs/{job}?lang=id"), Some(VIEWER)).await;
    assert_eq!(last_entry(&indonesian)["reason"], "ditahan oleh rina: alamat dicek", "what rina typed stays hers");
    assert_eq!(indonesian["state"], english["state"], "codes are codes in every language");

    let asked = |lang: &'static str| {
        api.client
            .get(format!("{}/api/v1/jobs/{job}", api.base))
            .bearer_auth(VIEWER)
            .header(reqwest::header::ACCEPT_LANGUAGE, lang)
            .send()
    };
    let answer = asked("id-ID,id;q=0.9,en;q=0.8").await.unwrap();
    assert_eq!(answer.headers()[reqwest::header::CONTENT_LANGUAGE], "id");
    let body: Value = answer.json().await.unwrap();
    assert_eq!(last_entry(&body)["reason"], "ditahan oleh rina: alamat dicek");
    let body: Value = asked("en-GB").await.unwrap().json().await.unwrap();
    assert_eq!(last_entry(&body)["reason"], "held by rina: alamat dicek");

    // The errors of actions too.
    let printed = api.job_in(2, JobState::Printed).await;
    let (status, refused) = api.post(&format!("/api/v1/jobs/{printed}/release?lang=id"), OPERATOR, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(refused["error"], format!("pekerjaan cetak {printed} berstatus sudah dicetak, tidak ditahan"));
    let (_, refused) = api.post(&format!("/api/v1/jobs/{printed}/release"), OPERATOR, json!({})).await;
    assert_eq!(refused["error"], format!("job {printed} is printed, not held"));
    let (status, missing) = api.get("/api/v1/jobs/not-a-job?lang=id", Some(VIEWER)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"], "tidak ada pekerjaan cetak \"not-a-job\"");
    let (_, forbidden) =
        api.post(&format!("/api/v1/jobs/{printed}/reprint?lang=id"), VIEWER, json!({"reason": "x"})).await;
    assert!(
        forbidden["error"].as_str().unwrap().ends_with("memerlukan peran penyelia; vera berperan pemantau"),
        "{forbidden}"
    );
}

/// Pages through a list to its end, checking the pages' sizes.
async fn all_pages(api: &Harness, query: &str, page: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let body = api.get_ok(&format!("/api/v1/jobs?limit={page}{query}&cursor={cursor}")).await;
        let jobs = body["jobs"].as_array().unwrap();
        assert!(jobs.len() <= page);
        ids.extend(jobs.iter().map(|job| job["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(jobs.len(), page, "a page before the last is full");
                next.clone_into(&mut cursor);
            }
            None => return ids,
        }
    }
}

on_both_backends!(
    lists_page_by_keyset_and_filter,
    search_finds_a_card_by_full_nik_name_or_id,
    full_nik_searches_are_audited_and_limited_per_staff_member
);

async fn full_nik_searches_are_audited_and_limited_per_staff_member(journal: Journal) {
    let api =
        Harness::with_journal(journal, tempfile::tempdir().unwrap(), |api| api.with_nik_searches_per_hour(2)).await;
    api.job_in(0, JobState::AwaitingAuthorization).await;
    // Names and ids are not a look-up of a citizen: neither audited nor limited.
    for _ in 0..3 {
        api.get_ok("/api/v1/jobs?q=hamid").await;
    }
    assert_eq!(api.get_ok("/api/v1/jobs?q=1502015203850001").await["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(api.get_ok("/api/v1/jobs?q=3171015203850009").await["jobs"].as_array().unwrap().len(), 0);
    let (status, body) = api.get("/api/v1/jobs?q=1502015203850001", Some(VIEWER)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["error"].as_str().unwrap().contains("vera made 2 searches by full NIK"), "{body}");
    // The limit is each staff member's own.
    let (status, _) = api.get("/api/v1/jobs?q=1502015203850001", Some(OPERATOR)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = api.get("/api/v1/audit/nik-searches", Some(OPERATOR)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the audit is for supervisors");
    let (status, audit) = api.get("/api/v1/audit/nik-searches", Some(SUPERVISOR)).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let seen: Vec<(&str, &str, i64)> = audit["searches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["staff"].as_str().unwrap(), s["nik"].as_str().unwrap(), s["found"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [("rina", "1502**********01", 1), ("vera", "3171**********09", 0), ("vera", "1502**********01", 1)],
        "who looked whom up, newest first; the refused search found nothing and is not there"
    );
    api.secrets.lock().unwrap().push("3171015203850009".into());
    api.assert_no_secrets();
}

async fn lists_page_by_keyset_and_filter(journal: Journal) {
    let api = Harness::over(journal).await;
    let mut waiting = Vec::new();
    for n in 0..45 {
        waiting.push(api.job_in(n, JobState::AwaitingAuthorization).await.to_string());
    }
    let mut failed = Vec::new();
    for n in 45..52 {
        failed.push(api.job_in(n, JobState::Failed).await.to_string());
    }
    let newest_first = all_pages(&api, "", 20).await;
    assert_eq!(newest_first.len(), 52);
    let mut expected: Vec<String> = waiting.iter().chain(&failed).cloned().collect();
    expected.reverse();
    assert_eq!(newest_first, expected, "newest first, each job once");
    let oldest_first = all_pages(&api, "&order=oldest", 7).await;
    assert_eq!(oldest_first, expected.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(all_pages(&api, "&state=failed", 3).await, failed.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(
        all_pages(&api, "&state=failed,awaiting_authorization", 10).await,
        expected,
        "several states merge in order"
    );
    assert_eq!(all_pages(&api, "&state=failed,held&order=oldest", 2).await, failed);
    assert_eq!(all_pages(&api, "&state=printed", 10).await.len(), 0);
    assert_eq!(all_pages(&api, "&office=1502", 50).await.len(), 52);
    assert_eq!(all_pages(&api, "&office=3171", 50).await.len(), 0);
    let page = api.get_ok("/api/v1/jobs?limit=52").await;
    assert_eq!(page["next_cursor"], Value::Null, "an exact last page ends the list");
    api.assert_no_secrets();
}

async fn search_finds_a_card_by_full_nik_name_or_id(journal: Journal) {
    let api = Harness::over(journal).await;
    // Serials 1..=250: jobs n and n + 100 share a masked NIK (the last two digits).
    let mut jobs = Vec::new();
    for n in 0..250 {
        jobs.push(api.job_in(n, JobState::AwaitingAuthorization).await);
    }
    let nik_of = |n: u32| format!("150201520385{:04}", n + 1);
    let found = api.get_ok(&format!("/api/v1/jobs?q={}", nik_of(42))).await;
    let ids: Vec<&str> = found["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [jobs[42].to_string()], "the full NIK finds exactly its card");
    assert_eq!(found["jobs"][0]["nik"], "1502**********43");
    let masked = api.get_ok("/api/v1/jobs?q=1502**********43&limit=100").await;
    assert_eq!(masked["jobs"].as_array().unwrap().len(), 3, "serials 43, 143 and 243");
    let by_id = api.get_ok(&format!("/api/v1/jobs?q={}", jobs[7])).await;
    assert_eq!(by_id["jobs"][0]["id"], jobs[7].to_string());
    let event_id = api.journal.job(jobs[8]).await.unwrap().unwrap().event_id;
    let by_event = api.get_ok(&format!("/api/v1/jobs?q={}", event_id.to_uppercase())).await;
    assert_eq!(by_event["jobs"][0]["id"], jobs[8].to_string());
    assert_eq!(api.get_ok("/api/v1/jobs?q=hamid&limit=500").await["jobs"].as_array().unwrap().len(), 250);
    assert_eq!(api.get_ok("/api/v1/jobs?q=h%25d").await["jobs"].as_array().unwrap().len(), 0, "% is literal");
    assert_eq!(api.get_ok("/api/v1/jobs?q=1502015203859999").await["jobs"].as_array().unwrap().len(), 0);
    // A name is found whatever its spelling's punctuation and case.
    let mut event = synthetic_event("nuraini-1", 300);
    event["name"] = "SITI NUR'AINI".into();
    let payload = serde_json::to_vec(&event).unwrap();
    api.journal.admit(&parsed(&payload), &payload, "ektp", Utc::now()).await.unwrap();
    for spelling in ["SITI NURAINI", "siti nur'aini", "Siti Nur-Aini", "nur’aini"] {
        let found = api.get_ok(&format!("/api/v1/jobs?q={}", spelling.replace(' ', "%20"))).await;
        let names: Vec<&str> = found["jobs"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["SITI NUR'AINI"], "{spelling}");
    }
    api.assert_no_secrets();
}

#[tokio::test]
async fn no_response_holds_a_full_nik_a_photo_or_an_authorization() {
    let api = Harness::start().await;
    let mut jobs = Vec::new();
    for (n, state) in [
        (1, JobState::AwaitingAuthorization),
        (2, JobState::Authorized),
        (3, JobState::Rendered),
        (4, JobState::Printed),
        (5, JobState::Unknown),
        (6, JobState::Failed),
    ] {
        jobs.push(api.job_in(n, state).await);
    }
    // A rejection whose reason quotes a NIK-like value.
    let bad = br#"{"nik": "3171015203850001999"}"#;
    api.journal
        .record_rejection(
            &NewRejection {
                payload: bad,
                event_id: None,
                routing_key: "enrollment.completed".into(),
                reason: "nik: \"3171015203850001999\" is not 16 digits".into(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    api.secrets.lock().unwrap().extend(["3171015203850001999".to_owned(), "1502015203850001".to_owned()]);
    for job in &jobs {
        let detail = api.get_ok(&format!("/api/v1/jobs/{job}")).await;
        assert!(detail["job"].get("payload").is_none());
    }
    let authorized = api.get_ok(&format!("/api/v1/jobs/{}", jobs[1])).await;
    assert_eq!(authorized["job"]["authorization"]["authorization_id"], "auth-2");
    assert_eq!(authorized["job"]["authorization"]["expires_at"], "2026-11-28T02:00:00Z");
    api.get_ok("/api/v1/jobs?limit=500").await;
    api.get_ok(&format!("/api/v1/jobs?q={}", "1502015203850002")).await;
    api.get_ok("/api/v1/summary").await;
    let rejections = api.get_ok("/api/v1/rejections").await;
    assert_eq!(rejections["rejections"][0]["reason"], "nik: \"3171*************99\" is not 16 digits");
    api.post(&format!("/api/v1/jobs/{}/hold", jobs[0]), OPERATOR, json!({"reason": "NIK 1502015203850001 to check"}))
        .await;
    api.get_ok(&format!("/api/v1/jobs/{}", jobs[0])).await;
    // Stored masked, not only shown masked: the audit trail, the rejection and the status event
    // upstream reads never hold the NIK a reason quoted.
    api.post(&format!("/api/v1/jobs/{}/cancel", jobs[5]), OPERATOR, json!({"reason": "duplicate of 1502015203850001"}))
        .await;
    let held = api.journal.history(jobs[0]).await.unwrap();
    assert_eq!(held.last().unwrap().reason, "held by rina: NIK 1502**********01 to check");
    let cancelled = api.journal.unpublished(1000).await.unwrap();
    let cancelled =
        cancelled.iter().find(|m| m.routing_key == "card.cancelled").expect("a card.cancelled status event");
    assert!(cancelled.body.contains("duplicate of 1502**********01"), "{}", cancelled.body);
    let stored = api.journal.rejections(10).await.unwrap();
    assert_eq!(stored[0].reason, "nik: \"3171*************99\" is not 16 digits");
    let (_, metrics) = api.request(reqwest::Method::GET, "/metrics", None, None).await;
    assert!(metrics.contains("cardspool_jobs"));
    api.assert_no_secrets();
}

#[tokio::test]
async fn summary_counts_what_waits_and_why() {
    let api = Harness::start().await;
    for n in 0..4 {
        api.job_in(n, JobState::AwaitingAuthorization).await;
    }
    api.job_in(4, JobState::Rendered).await;
    api.job_in(5, JobState::Failed).await;
    api.job_in(6, JobState::Unknown).await;
    api.job_in(7, JobState::Printed).await;
    api.journal
        .record_rejection(
            &NewRejection {
                payload: b"{}",
                event_id: None,
                routing_key: "enrollment.completed".into(),
                reason: "schema: missing".into(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let summary = api.get_ok("/api/v1/summary").await;
    assert_eq!(summary["jobs"]["total"], 8);
    assert_eq!(summary["jobs"]["by_state"]["awaiting_authorization"]["count"], 4);
    assert_eq!(summary["jobs"]["by_state"]["cancelled"]["count"], 0);
    assert_eq!(summary["waiting"]["authorization"]["count"], 4);
    assert!(summary["waiting"]["authorization"]["oldest_received_at"].is_string());
    assert_eq!(summary["waiting"]["printing"]["count"], 1);
    assert_eq!(summary["waiting"]["staff"]["count"], 2);
    assert_eq!(summary["rejections"]["distinct"], 1);
    assert_eq!(summary["rejections"]["latest"][0]["reason"], "schema: missing");
    assert_eq!(summary["printers"], Value::Null, "printing does not run here");
    let (status, _) = api.get("/api/v1/printers", Some(VIEWER)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn metrics_show_jobs_by_state_and_rejections() {
    let api = Harness::start().await;
    for n in 0..2 {
        api.job_in(n, JobState::AwaitingAuthorization).await;
    }
    api.job_in(2, JobState::Printed).await;
    for payload in [&b"{}"[..], b"[]"] {
        let rejection = NewRejection { payload, event_id: None, routing_key: "k".into(), reason: "bad".into() };
        api.journal.record_rejection(&rejection, Utc::now()).await.unwrap();
        api.journal.record_rejection(&rejection, Utc::now()).await.unwrap();
    }
    let response = api.client.get(format!("{}/metrics", api.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    for line in [
        "cardspool_journal_up 1",
        "cardspool_jobs{state=\"awaiting_authorization\"} 2",
        "cardspool_jobs{state=\"printed\"} 1",
        "cardspool_jobs{state=\"held\"} 0",
        "cardspool_rejections 2",
        "cardspool_rejected_deliveries_total 4",
        "# TYPE cardspool_jobs gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
    }
    let age = text
        .lines()
        .find_map(|l| l.strip_prefix("cardspool_jobs_oldest_age_seconds{state=\"awaiting_authorization\"} "))
        .unwrap_or_else(|| panic!("no age in:\n{text}"));
    let age: f64 = age.parse().unwrap();
    assert!((3500.0..3700.0).contains(&age), "the jobs were received an hour ago: {age}");
    // Three jobs walked to their states: at least one commit, and never more commits than writes.
    let counter = |name: &str| -> u64 {
        let line = text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).unwrap_or_else(|| panic!("{name}"));
        line.parse().unwrap()
    };
    let (commits, writes) = (counter("cardspool_journal_commits_total"), counter("cardspool_journal_writes_total"));
    assert!(commits >= 1 && commits <= writes, "{commits} commits for {writes} writes");

    // The counts follow the journal at each scrape.
    let job = api.job_in(3, JobState::AwaitingAuthorization).await;
    api.post(&format!("/api/v1/jobs/{job}/hold"), OPERATOR, json!({})).await;
    let text = api.client.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    assert!(text.lines().any(|l| l == "cardspool_jobs{state=\"held\"} 1"), "{text}");
    assert!(text.lines().any(|l| l == "cardspool_jobs{state=\"awaiting_authorization\"} 2"), "{text}");
}

#[tokio::test]
async fn healthz_names_a_part_that_stopped() {
    let parts = std::sync::Arc::new(cardspool::telemetry::PartsHealth::default());
    let (journal, dir) = journal::sqlite().await;
    let api = Harness::with_journal(journal, dir, |api| api.with_parts_health(parts.clone())).await;
    assert_eq!(api.get("/healthz", None).await.0, StatusCode::OK);
    parts.down("dispatch", "it panicked: index out of bounds".into());
    let (status, body) = api.get("/healthz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"status": "down", "down": {"dispatch": "it panicked: index out of bounds"}}));
}

#[tokio::test]
async fn readyz_fails_when_the_journal_is_closed() {
    let api = Harness::start().await;
    let (status, body) = api.get("/readyz", None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ready")));
    api.journal.close().await;
    let (status, body) = api.get("/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "not ready");
    assert_eq!(api.get("/healthz", None).await.0, StatusCode::OK, "the process itself is up");
    let text = api.client.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    assert!(text.lines().any(|l| l == "cardspool_journal_up 0"), "{text}");
}

#[tokio::test]
async fn printers_are_listed_paused_and_resumed_by_operators() {
    let (api, printers) = api::with_two_folder_printers().await;

    let listed = api.get_ok("/api/v1/printers").await;
    let statuses: Vec<(&str, &str)> = listed["printers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("card-1", "ready"), ("card-2", "faulted")]);
    assert!(!listed["printers"][1]["faults"].as_array().unwrap().is_empty(), "{listed}");

    assert_eq!(api.post("/api/v1/printers/card-1/pause", VIEWER, json!({})).await.0, StatusCode::FORBIDDEN);
    let (status, body) = api.post("/api/v1/printers/card-1/pause", OPERATOR, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["printer"]["status"], "paused");
    assert_eq!(body["printer"]["paused"]["by"], "rina");
    assert!(printers.acquire("ektp").is_none(), "a paused printer takes no job");
    let summary = api.get_ok("/api/v1/summary").await;
    assert_eq!(summary["printers"][0]["status"], "paused");
    let (status, body) = api.post("/api/v1/printers/card-1/resume", OPERATOR, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["printer"]["status"], "ready");
    assert!(printers.acquire("ektp").is_some());
    assert_eq!(api.post("/api/v1/printers/card-9/pause", OPERATOR, json!({})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.post("/api/v1/printers/card-1/explode", OPERATOR, json!({})).await.0, StatusCode::NOT_FOUND);
    let text = api.client.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    assert!(text.lines().any(|l| l == "cardspool_printer_faulted{printer=\"card-2\",pool=\"ektp\"} 1"), "{text}");
}

#[tokio::test]
async fn the_dashboard_page_is_served_without_a_token() {
    let api = Harness::start().await;
    let response = api.client.get(format!("{}/", api.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    // Not framed by another site, no address leaked as a referrer, only the page's own script.
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'; script-src 'sha256-"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"), "{policy}");
    // The API's answers run nothing and are framed nowhere either.
    let answer = api.client.get(format!("{}/api/v1/summary", api.base)).send().await.unwrap();
    assert_eq!(answer.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    assert_eq!(answer.headers()["x-frame-options"], "DENY");
    let page = response.text().await.unwrap();
    assert!(page.contains("\"/api/v1\" + path") && page.contains("api(\"/summary\")"), "the page polls the summary");
    assert!(page.starts_with("<!doctype html>\n<html lang=\"id\""), "Bahasa Indonesia unless configured otherwise");
}

#[tokio::test]
async fn the_dashboard_s_texts_are_served_in_the_office_s_language_or_the_one_asked_for() {
    let api = Harness::start().await;
    let messages = |query: &'static str| api.client.get(format!("{}/dashboard/messages{query}", api.base)).send();
    // No token needed (the page asks for one in its own words), and the browser's own
    // Accept-Language does not decide: the page speaks the office's language until staff choose.
    let response = messages("").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    let answer: Value = response.json().await.unwrap();
    assert_eq!((&answer["lang"], &answer["default"]), (&json!("id"), &json!("id")), "{answer}");
    assert_eq!(answer["messages"]["state-awaiting_authorization"], "menunggu otorisasi pusat");
    assert_eq!(answer["messages"]["dash-updated"], "diperbarui {when}", "placeholders for the page to fill");
    let answer: Value = messages("?lang=en").await.unwrap().json().await.unwrap();
    assert_eq!((&answer["lang"], &answer["default"]), (&json!("en"), &json!("id")), "{answer}");
    assert_eq!(answer["messages"]["dash-waiting-authorization"], "{cards} waiting for central's authorization");
    let refused = messages("?lang=fr").await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let refused: Value = refused.json().await.unwrap();
    assert!(refused["error"].as_str().unwrap().contains("use id (Bahasa Indonesia) or en (English)"), "{refused}");

    // `[api] language = "en"`: the page and its texts are English until staff choose.
    let (journal, dir) = journal::sqlite().await;
    let english = Harness::with_journal(journal, dir, |api| api.with_language(cardspool::i18n::Lang::En)).await;
    let page = english.client.get(format!("{}/", english.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<html lang=\"en\" data-default-lang=\"en\">"), "{page}");
    let answer: Value = english
        .client
        .get(format!("{}/dashboard/messages", english.base))
        .header("accept-language", "id")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((&answer["lang"], &answer["default"]), (&json!("en"), &json!("en")), "{answer}");
}

#[tokio::test]
async fn templates_are_listed_with_their_problems_and_previewed_as_a_specimen_pdf() {
    let templates_dir = tempfile::tempdir().unwrap();
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    std::fs::copy(bundled.join("ektp.toml"), templates_dir.path().join("ektp.toml")).unwrap();
    std::os::unix::fs::symlink(bundled.join("fonts"), templates_dir.path().join("fonts")).unwrap();
    std::fs::write(templates_dir.path().join("broken.toml"), "title = \"Broken\"\npool = 7\n").unwrap();
    let store = std::sync::Arc::new(TemplateStore::load(templates_dir.path()).unwrap());
    let (journal, dir) = journal::sqlite().await;
    let api = Harness::with_journal(journal, dir, |api| api.with_templates(store)).await;

    let list = api.get_ok("/api/v1/templates").await;
    let ektp = &list["templates"][0];
    assert_eq!(
        (ektp["name"].as_str(), ektp["pool"].as_str(), ektp["pages"].as_u64()),
        (Some("ektp"), Some("ektp"), Some(2))
    );
    assert!((ektp["width_mm"].as_f64().unwrap() - 85.60).abs() < 0.01, "{ektp}");
    assert_eq!(list["templates"].as_array().unwrap().len(), 1, "the broken template is not offered: {list}");
    let problem = list["problems"][0]["error"].as_str().unwrap();
    assert!(
        problem.contains("broken.toml:2") && problem.contains("pool"),
        "the problem names file, line and field: {problem}"
    );

    let response =
        api.client.get(format!("{}/api/v1/templates/ektp/preview", api.base)).bearer_auth(VIEWER).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(pdf.path(), response.bytes().await.unwrap()).unwrap();
    let text =
        std::process::Command::new("pdftotext").arg(pdf.path()).arg("-").output().expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("HAMIDAH") && text.contains("MERANGIN"), "the specimen card: {text}");

    assert_eq!(api.get("/api/v1/templates/broken/preview", Some(VIEWER)).await.0, StatusCode::CONFLICT);
    assert_eq!(api.get("/api/v1/templates/nope/preview", Some(VIEWER)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.get("/api/v1/templates/ektp/preview", None).await.0, StatusCode::UNAUTHORIZED);
    // A spooler that does not render says so rather than listing nothing.
    let bare = Harness::start().await;
    assert_eq!(bare.get("/api/v1/templates", Some(VIEWER)).await.0, StatusCode::SERVICE_UNAVAILABLE);
}

#[test]
fn synthetic_events_have_the_niks_the_tests_expect() {
    let event = parsed(&synthetic_payload("e", 42));
    assert_eq!(event.nik.as_str(), "1502015203850043");
}

#[tokio::test]
async fn central_s_state_is_shown_and_a_check_can_be_asked_for() {
    let now = Utc::now();
    let monitor = api::central_monitor(2, now);
    let api = api::with_central(&monitor).await;
    let central = api.get_ok("/api/v1/central").await;
    assert_eq!(
        (central["state"].as_str(), central["central"].as_str()),
        (Some("unknown"), Some("http://central.test:8470"))
    );

    // Central stops answering: the breaker opens after two failures.
    let failed = Verdict::Failed { detail: "connection refused".into(), retry_after: None, alert: None };
    for _ in 0..2 {
        monitor.record(&failed, false, now);
        monitor.count_answer("unavailable");
    }
    let central = api.get_ok("/api/v1/central").await;
    assert_eq!(central["state"], "down", "{central}");
    assert_eq!(central["breaker"], "open");
    assert_eq!(central["last_error"], "connection refused");
    assert!(central["summary"].as_str().unwrap().starts_with("central down since"), "{central}");
    assert!(central["next_probe_at"].is_string());
    let summary = api.get_ok("/api/v1/summary").await;
    assert_eq!(summary["central"]["state"], "down");

    // Staff ask for a check now (an operator may; a viewer may not).
    assert_eq!(api.post("/api/v1/central/check", VIEWER, json!({})).await.0, StatusCode::FORBIDDEN);
    let (status, body) = api.post("/api/v1/central/check", OPERATOR, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["note"], "central is asked now");
    let next = chrono::DateTime::parse_from_rfc3339(body["central"]["next_probe_at"].as_str().unwrap()).unwrap();
    assert!(next <= Utc::now(), "the next probe is due now: {next}");

    let text = api.client.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    for line in [
        "cardspool_central_state{state=\"down\"} 1",
        "cardspool_central_state{state=\"up\"} 0",
        "cardspool_central_consecutive_failures 2",
        "cardspool_central_answers_total{outcome=\"unavailable\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
    }

    // A spooler without central's key runs no authorization, and says so.
    let without = Harness::start().await;
    let (status, body) = without.get("/api/v1/central", Some(VIEWER)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("public_key"), "{body}");
    assert_eq!(without.get_ok("/api/v1/summary").await["central"], Value::Null);
}

/// Timings of the staff queries over a large SQLite journal (20,000 jobs with 25 KB events, as
/// real photos make them). Not a pass/fail bar: run it by hand to measure, with
/// `cargo test --test integration -- --ignored --nocapture staff_queries_at_scale`.
#[tokio::test]
#[ignore = "a measurement, ~1 minute and 500 MB of disk"]
async fn staff_queries_at_scale() {
    use cardspool::journal::NewJob;
    let api = Harness::start().await;
    let padding = "A".repeat(25_000);
    let started = std::time::Instant::now();
    for batch in 0..40u32 {
        let mut payloads = Vec::new();
        let mut events = Vec::new();
        for i in 0..500 {
            let n = batch * 500 + i;
            let mut event = synthetic_event(&uuid::Uuid::new_v4().to_string(), n);
            events.push(parsed(&serde_json::to_vec(&event).unwrap()));
            event["padding"] = Value::String(padding.clone());
            payloads.push(serde_json::to_vec(&event).unwrap());
        }
        let jobs: Vec<NewJob<'_>> =
            events.iter().zip(&payloads).map(|(event, payload)| NewJob { event, payload, template: "ektp" }).collect();
        api.journal.admit_all(&jobs, Utc::now()).await.unwrap();
    }
    println!("20,000 jobs journaled in {:?}", started.elapsed());
    let page = api.get_ok("/api/v1/jobs?limit=10&order=oldest").await;
    for job in page["jobs"].as_array().unwrap() {
        let id = job["id"].as_str().unwrap();
        api.post(&format!("/api/v1/jobs/{id}/hold"), OPERATOR, json!({})).await;
    }
    for (what, path) in [
        ("summary", "/api/v1/summary"),
        ("jobs, first page", "/api/v1/jobs"),
        ("jobs received, first page", "/api/v1/jobs?state=received"),
        ("jobs held", "/api/v1/jobs?state=held"),
        ("jobs needing staff (3 states)", "/api/v1/jobs?state=failed,unknown,held&limit=20&order=oldest"),
        ("search by name (no match)", "/api/v1/jobs?q=nobody"),
        ("search by full NIK", "/api/v1/jobs?q=1502015203850043"),
        ("metrics", "/metrics"),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let (status, _) = api.get(path, Some(VIEWER)).await;
            times.push(started.elapsed());
            assert_eq!(status, StatusCode::OK, "{path}");
        }
        times.sort();
        println!("{what:<32} median {:>8.1} ms", times[2].as_secs_f64() * 1000.0);
    }
}

#[tokio::test]
async fn blanks_loaded_by_an_operator_are_counted_down_and_shown_low() {
    let (api, _printers) = api::with_two_folder_printers().await;
    let load = |cards: Value, token: &'static str| {
        let api = &api;
        async move { api.post("/api/v1/printers/card-1/load", token, json!({ "cards": cards })).await }
    };
    assert_eq!(load(json!(5), VIEWER).await.0, StatusCode::FORBIDDEN);
    assert_eq!(load(json!(0), OPERATOR).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(load(json!("many"), OPERATOR).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(api.post("/api/v1/printers/card-9/load", OPERATOR, json!({"cards": 5})).await.0, StatusCode::NOT_FOUND);
    let (status, body) = load(json!(40), OPERATOR).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["printer"]["blanks"].as_i64(), body["printer"]["stock"].as_str()), (Some(40), Some("low")));
    let (_, body) = load(json!(60), OPERATOR).await;
    assert_eq!((body["printer"]["blanks"].as_i64(), body["printer"]["stock"].as_str()), (Some(100), Some("ok")));

    // Every card a printer takes is one blank fewer (the ledger's line and the count together).
    let card = cardspool::journal::NewCard {
        job_id: None,
        printer: "card-1",
        printer_job_id: Some(1),
        at: Utc::now(),
        utc_offset_minutes: 420,
    };
    api.journal.record_test_card(&card, "test card by rina").await.unwrap();
    let listed = api.get_ok("/api/v1/printers").await;
    let card_1 = listed["printers"].as_array().unwrap().iter().find(|p| p["name"] == "card-1").unwrap().clone();
    assert_eq!(card_1["blanks"], 99);
    let card_2 = listed["printers"].as_array().unwrap().iter().find(|p| p["name"] == "card-2").unwrap().clone();
    assert_eq!((&card_2["blanks"], &card_2["stock"]), (&Value::Null, &Value::Null), "not counted until a load");
    let summary = api.get_ok("/api/v1/summary").await;
    assert!(summary["printers"].as_array().unwrap().iter().any(|p| p["blanks"] == 99), "{summary}");
    let text = api.client.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    assert!(text.lines().any(|l| l == "cardspool_printer_blanks{printer=\"card-1\",pool=\"ektp\"} 99"), "{text}");
    assert!(text.lines().any(|l| l == "cardspool_printer_blanks_low{printer=\"card-1\",pool=\"ektp\"} 0"), "{text}");
}

#[tokio::test]
async fn a_citizen_s_card_is_placed_in_its_pool_s_queue_and_timed_at_the_pool_s_pace() {
    use cardspool::central::Verdict;
    let dir = tempfile::tempdir().unwrap();
    let printers = api::two_folder_printers(dir.path()).await;
    let now = Utc::now();
    let monitor = api::central_monitor(1, now);
    monitor.record(&Verdict::Healthy, false, now);
    let store = std::sync::Arc::new(TemplateStore::load(&dir.path().join("no-templates")).unwrap());
    let journal = crate::support::journal::sqlite_in(dir.path()).await;
    let api = Harness::with_journal(journal, dir, |api| {
        api.with_printers(printers.clone()).with_templates(store).with_central(monitor.clone())
    })
    .await;
    // Three cards printed by card-1 in the last half hour: the pool's pace, one per 40 minutes
    // over the two-hour window.
    for n in 20..23 {
        api.job_in_at(n, JobState::Printed, now - chrono::Duration::minutes(30)).await;
    }
    let rendered = api.job_in(1, JobState::Rendered).await;
    let authorized = api.job_in(2, JobState::Authorized).await;
    let urgent = api.job_in(10, JobState::Authorized).await;
    let waiting = api.job_in(4, JobState::AwaitingAuthorization).await;
    let held = api.job_in(5, JobState::AwaitingAuthorization).await;
    api.post(&format!("/api/v1/jobs/{held}/hold"), OPERATOR, json!({"reason": "address to check"})).await;

    let estimate = |job: JobId| {
        let api = &api;
        async move { api.get_ok(&format!("/api/v1/jobs/{job}/estimate")).await }
    };
    let first = estimate(urgent).await;
    assert_eq!((first["position"].as_u64(), first["of"].as_u64()), (Some(1), Some(4)), "urgent first: {first}");
    let second = estimate(rendered).await;
    assert_eq!((second["position"].as_u64(), second["pool"].as_str()), (Some(2), Some("ektp")), "{second}");
    let expected: chrono::DateTime<Utc> = second["expected_at"].as_str().unwrap().parse().unwrap();
    let minutes = (expected - Utc::now()).num_minutes();
    assert!((78..=80).contains(&minutes), "two cards at 40 minutes each: {minutes} min; {second}");
    let text = second["text"].as_str().unwrap();
    assert!(text.starts_with("position 2 of 4 for pool ektp; expected about "), "{text}");
    assert!(text.ends_with(" today") || text.ends_with(" WIB"), "{text}");
    // The slip for the citizen: the reference, the masked NIK, the state and the estimate.
    let slip =
        api.client.get(format!("{}/api/v1/jobs/{rendered}/slip", api.base)).bearer_auth(VIEWER).send().await.unwrap();
    assert_eq!(slip.headers()["content-type"], "application/pdf");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slip.pdf"), slip.bytes().await.unwrap()).unwrap();
    let text = std::process::Command::new("pdftotext").arg(dir.path().join("slip.pdf")).arg("-").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    // In the office's language (`[api] language`, Bahasa Indonesia by default).
    for expected in [rendered.to_string().as_str(), "1502**********02", "siap cetak", "nomor antrean 2 dari 4"] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    assert_eq!(estimate(authorized).await["position"], 3);
    assert_eq!(estimate(waiting).await["position"], 4);
    let staff = estimate(held).await;
    assert!(
        staff["text"].as_str().unwrap().starts_with("held: waiting for staff (held by rina: address to check)"),
        "{staff}"
    );

    // Central down: no estimate for a card still waiting for it; the others keep theirs.
    monitor.record(&Verdict::Failed { detail: "HTTP 503".into(), retry_after: None, alert: None }, false, now);
    let down = estimate(waiting).await;
    let text = down["text"].as_str().unwrap();
    assert!(
        text.starts_with("waiting for central's authorization since ")
            && text.contains("no estimate while central is down since"),
        "{text}"
    );
    assert_eq!(down["position"], Value::Null);
    assert_eq!(estimate(rendered).await["of"], 3, "the cards waiting for central are no longer counted");
    assert_eq!(
        api.get(&format!("/api/v1/jobs/{}/estimate", JobId::new()), Some(VIEWER)).await.0,
        StatusCode::NOT_FOUND
    );
    api.assert_no_secrets();
}

#[tokio::test]
async fn the_daily_report_gives_the_day_per_printer_and_for_the_jobs_as_pdf_and_csv() {
    let (api, _printers) = api::with_two_folder_printers().await;
    let at = Utc::now() - chrono::Duration::minutes(1);
    let zone = cardspool::domain::office_time::OfficeZone::Wib;
    let date = at.with_timezone(&zone.offset()).date_naive();
    api.journal.load_blanks("card-1", 100, "rina", at).await.unwrap();
    // Everything at `at` and the report asked for its day: an hour ago or "today" would fall on
    // two office days when the test runs in the first hour after midnight WIB.
    for n in 30..33 {
        api.job_in_at(n, JobState::Printed, at).await;
    }
    let spoiled = api.job_in_at(34, JobState::Printed, at).await;
    api.post(&format!("/api/v1/jobs/{spoiled}/spoiled"), OPERATOR, json!({"reason": "photo smeared"})).await;
    api.job_in_at(35, JobState::AwaitingAuthorization, at).await;

    let (status, csv) = api
        .request(reqwest::Method::GET, &format!("/api/v1/reports/daily?date={date}&format=csv"), Some(VIEWER), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    for row in [
        format!("day,1502,date,{date}"),
        "printer,card-1,printed,3".to_owned(),
        "printer,card-1,spoiled,1".to_owned(),
        "printer,card-1,spoiled_reason,marked spoiled by rina: photo smeared".to_owned(),
        "printer,card-1,blanks_loaded,100".to_owned(),
        "printer,card-2,printed,0".to_owned(),
        "printer,card-2,stock_at_day_end,".to_owned(),
        "jobs,,received,5".to_owned(),
        "jobs,,still_waiting,1".to_owned(),
    ] {
        assert!(csv.lines().any(|line| line == row), "{row} missing:\n{csv}");
    }
    // Four cards on card-1 after the load (three printed, the one later spoiled).
    assert!(csv.lines().any(|line| line == "printer,card-1,stock_at_day_end,96"), "{csv}");
    let hours: i64 = csv
        .lines()
        .filter(|line| line.starts_with("hour,"))
        .map(|line| line.rsplit(',').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(hours, 3, "the printed cards, by hour");

    let response = api
        .client
        .get(format!("{}/api/v1/reports/daily?date={date}", api.base))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("laporan-harian-1502-{date}.pdf")));
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, response.bytes().await.unwrap()).unwrap();
    let text = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    for expected in ["Laporan harian", "card-1", "photo smeared", "received 5", "Supervisor", "Cards printed per hour"]
    {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    assert!(!text.contains("1502015203850"), "no full NIK in the report");
    let (status, _) = api.get("/api/v1/reports/daily?date=yesterday", Some(VIEWER)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    api.assert_no_secrets();
}
