//! "When will my card be ready?": where a job stands, and when its card is expected, from the
//! queue ahead of it and the pace its printer pool kept lately. Pure: the journal counts, the
//! API asks, this decides and words it.

use chrono::{DateTime, Duration, Utc};

use super::job::JobState;
use super::office_time::OfficeZone;
use crate::i18n::{restate_in, state_name, Lang};
use crate::tr;

/// What is known of a job and its pool at one moment.
#[derive(Debug, Clone)]
pub struct QueueFacts {
    pub state: JobState,
    /// Why the job is where it is (its last step's reason).
    pub reason: String,
    /// When the job last moved.
    pub since: DateTime<Utc>,
    /// Central cannot authorize now (down, this office's credentials refused, not running):
    /// why, and since when when known. A job waiting for central has no estimate then.
    pub central_unavailable: Option<(String, Option<DateTime<Utc>>)>,
    /// The job's printer pool, when its template is known.
    pub pool: Option<String>,
    /// The job's place among the cards its pool will print (1 for the next), and how many.
    pub position: u64,
    pub queue: u64,
    /// Cards the pool printed in the last `window`.
    pub printed_in_window: u64,
    pub window: Duration,
    /// Printers of the pool taking cards now.
    pub printers_up: u32,
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Estimate {
    /// Nothing more will be printed for it (printed, cancelled, rejected, spoiled).
    Ended { state: JobState, since: DateTime<Utc> },
    /// Staff must act first (held, failed, in doubt).
    WaitingForStaff { state: JobState, reason: String },
    /// Waiting for central, which cannot answer now: no estimate.
    WaitingForCentral { since: DateTime<Utc>, why: String, central_since: Option<DateTime<Utc>> },
    /// In its pool's queue; `expected` when the pool's pace gives one, else why not.
    Queued { position: u64, of: u64, pool: String, expected: Result<DateTime<Utc>, String> },
}

impl Estimate {
    /// Works out where the job stands at `now`.
    pub fn of(facts: &QueueFacts, now: DateTime<Utc>) -> Estimate {
        match facts.state {
            JobState::Printed | JobState::Cancelled | JobState::Rejected | JobState::Spoiled => {
                return Estimate::Ended { state: facts.state, since: facts.since };
            }
            JobState::Held | JobState::Failed | JobState::Unknown => {
                return Estimate::WaitingForStaff { state: facts.state, reason: facts.reason.clone() };
            }
            JobState::Received | JobState::AwaitingAuthorization => {
                if let Some((why, central_since)) = &facts.central_unavailable {
                    return Estimate::WaitingForCentral {
                        since: facts.since,
                        why: why.clone(),
                        central_since: *central_since,
                    };
                }
            }
            JobState::Authorized | JobState::Rendered | JobState::Printing => {}
        }
        let Some(pool) = facts.pool.clone() else {
            return Estimate::WaitingForStaff { state: facts.state, reason: tr!(Lang::En, "said-no-printer-pool") };
        };
        let expected = if facts.printers_up == 0 {
            Err(tr!(Lang::En, "said-no-printer-up", pool = &pool))
        } else if facts.printed_in_window == 0 {
            Err(tr!(Lang::En, "said-pool-idle", pool = &pool, hours = facts.window.num_hours()))
        } else {
            // The pool's recent pace, applied to the cards ahead (this one included).
            let per_card_ms =
                facts.window.num_milliseconds() / i64::try_from(facts.printed_in_window).unwrap_or(i64::MAX);
            let ahead = i64::try_from(facts.position).unwrap_or(i64::MAX);
            Ok(now + Duration::milliseconds(per_card_ms.saturating_mul(ahead)))
        };
        Estimate::Queued { position: facts.position, of: facts.queue, pool, expected }
    }

    /// In words, in `lang`, times in the office's `zone` ("expected about 14:20 today").
    pub fn text(&self, lang: Lang, zone: OfficeZone, now: DateTime<Utc>) -> String {
        let said = |stored: &str| restate_in(lang, Some(zone), stored).into_owned();
        match self {
            Estimate::Ended { state, since } => {
                tr!(lang, "estimate-ended", state = state_name(lang, *state), since = zone.format(*since))
            }
            Estimate::WaitingForStaff { state, reason } => {
                tr!(lang, "estimate-waiting-for-staff", state = state_name(lang, *state), reason = said(reason))
            }
            Estimate::WaitingForCentral { since, why, central_since } => {
                let central = match central_since {
                    Some(at) => tr!(lang, "estimate-central-since", why = said(why), since = zone.format(*at)),
                    None => said(why),
                };
                tr!(lang, "estimate-waiting-for-central", since = zone.format(*since), central = central)
            }
            Estimate::Queued { position, of, pool, expected } => {
                let when = match expected {
                    Ok(at) if zone.format_date(*at) == zone.format_date(now) => {
                        let time = at.with_timezone(&zone.offset()).format("%H:%M").to_string();
                        tr!(lang, "estimate-expected-today", time = time)
                    }
                    Ok(at) => tr!(lang, "estimate-expected", at = zone.format(*at)),
                    Err(why) => tr!(lang, "estimate-none", why = said(why)),
                };
                tr!(lang, "estimate-queued", position = *position, of = *of, pool = pool, when = when)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn facts(state: JobState) -> QueueFacts {
        QueueFacts {
            state,
            reason: "rendered".into(),
            since: Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap(),
            central_unavailable: None,
            pool: Some("ektp".into()),
            position: 37,
            queue: 112,
            printed_in_window: 120,
            window: Duration::hours(2),
            printers_up: 2,
        }
    }

    #[test]
    fn a_queued_card_is_expected_at_the_pool_s_recent_pace() {
        // 120 cards in 2 hours: one a minute; 37 ahead (this one included): 37 minutes.
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 6, 43, 0).unwrap();
        let estimate = Estimate::of(&facts(JobState::Rendered), now);
        assert_eq!(
            estimate,
            Estimate::Queued {
                position: 37,
                of: 112,
                pool: "ektp".into(),
                expected: Ok(Utc.with_ymd_and_hms(2026, 12, 1, 7, 20, 0).unwrap())
            }
        );
        assert_eq!(
            estimate.text(Lang::En, OfficeZone::Wib, now),
            "position 37 of 112 for pool ektp; expected about 14:20 today"
        );
        assert_eq!(
            estimate.text(Lang::Id, OfficeZone::Wib, now),
            "nomor antrean 37 dari 112 di kelompok printer ektp; perkiraan selesai sekitar pukul 14:20 hari ini"
        );
        let late = Utc.with_ymd_and_hms(2026, 12, 1, 16, 43, 0).unwrap();
        assert_eq!(
            Estimate::of(&facts(JobState::Rendered), late).text(Lang::En, OfficeZone::Wib, late),
            "position 37 of 112 for pool ektp; expected about 02-12-2026 00:20 WIB"
        );
    }

    #[test]
    fn no_estimate_while_central_is_down_or_no_printer_prints() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 6, 43, 0).unwrap();
        let mut waiting = facts(JobState::AwaitingAuthorization);
        waiting.central_unavailable =
            Some((tr!(Lang::En, "said-central-is-down"), Some(Utc.with_ymd_and_hms(2026, 12, 1, 0, 30, 0).unwrap())));
        assert_eq!(
            Estimate::of(&waiting, now).text(Lang::Id, OfficeZone::Wib, now),
            "menunggu otorisasi cetak dari pusat sejak 01-12-2026 08:00 WIB; belum ada perkiraan selama jaringan ke \
             pusat terputus sejak 01-12-2026 07:30 WIB"
        );
        assert_eq!(
            Estimate::of(&waiting, now).text(Lang::En, OfficeZone::Wib, now),
            "waiting for central's authorization since 01-12-2026 08:00 WIB; no estimate while central is down since \
             01-12-2026 07:30 WIB"
        );
        let mut stopped = facts(JobState::Rendered);
        stopped.printers_up = 0;
        assert!(Estimate::of(&stopped, now)
            .text(Lang::En, OfficeZone::Wib, now)
            .ends_with("no estimate: no printer of pool ektp takes cards now"));
        let mut idle = facts(JobState::Authorized);
        idle.printed_in_window = 0;
        assert!(Estimate::of(&idle, now)
            .text(Lang::En, OfficeZone::Wib, now)
            .contains("printed no card in the last 2 hours"));
        assert!(matches!(Estimate::of(&facts(JobState::Held), now), Estimate::WaitingForStaff { .. }));
        assert!(matches!(Estimate::of(&facts(JobState::Printed), now), Estimate::Ended { .. }));
    }
}
