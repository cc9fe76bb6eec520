//! The one way the tests open a journal: SQLite in a temporary directory of its own, or a fresh
//! PostgreSQL database.

use std::path::Path;

use cardspool::domain::job::JobState;
use cardspool::journal::Journal;

use super::services;

/// Connections per test journal: enough for a worker and the test's own queries.
const POOL: u32 = 4;

/// A temporary directory in RAM when the machine has one (thousands of SQLite commits, as in a
/// week-long outage, stay fast there).
pub fn fast_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().expect("temp dir")
}

/// A SQLite journal in `dir` (`dir/journal.db`, the file [`services::sqlite_url`] names).
pub async fn sqlite_in(dir: &Path) -> Journal {
    sqlite_with_connections(dir, POOL).await
}

/// The same with `connections` connections (SQLite opens them all at once), for a worker that
/// runs many journal calls at a time.
pub async fn sqlite_with_connections(dir: &Path, connections: u32) -> Journal {
    open(&services::sqlite_url(dir), connections).await
}

/// A SQLite journal in a new temporary directory, which lives as long as the returned guard.
pub async fn sqlite() -> (Journal, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (sqlite_in(dir.path()).await, dir)
}

/// The journal at `url`, beside the spooler process that also uses it.
pub async fn at(url: &str) -> Journal {
    open(url, POOL).await
}

/// A journal on a PostgreSQL database of its own.
pub async fn postgres() -> Journal {
    at(&services::fresh_postgres().await).await
}

/// Jobs in `state` now.
pub async fn count(journal: &Journal, state: JobState) -> i64 {
    journal.count_by_state().await.expect("count jobs").get(&state).copied().unwrap_or(0)
}

/// Jobs in the journal, all states.
pub async fn total(journal: &Journal) -> i64 {
    journal.count_by_state().await.expect("count jobs").values().sum()
}

async fn open(url: &str, connections: u32) -> Journal {
    Journal::open(url, connections).await.unwrap_or_else(|error| panic!("cannot open the journal {url}: {error}"))
}
