//! The spooler's notion of "now".
//!
//! Wall-clock time anchored once, then advanced by tokio's monotonic clock. Under
//! `tokio::time::pause()` the whole spooler therefore lives in simulated time: a test can skip
//! a seven-day outage in milliseconds, and the journal's timestamps follow.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    anchor_wall: DateTime<Utc>,
    anchor_instant: Instant,
}

impl Clock {
    /// A clock reading the system time now and following tokio's clock from here on.
    pub fn system() -> Clock {
        Clock { anchor_wall: Utc::now(), anchor_instant: Instant::now() }
    }

    /// A clock that starts at a chosen time (tests).
    pub fn starting_at(anchor_wall: DateTime<Utc>) -> Clock {
        Clock { anchor_wall, anchor_instant: Instant::now() }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = Instant::now().saturating_duration_since(self.anchor_instant);
        self.anchor_wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::TimeDelta::MAX)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}
