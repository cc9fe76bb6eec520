//! The journal's schema migrations, embedded in the binary and run by sqlx's runtime `Migrator`.
//!
//! sqlx's `migrate!` macro would do the same at compile time, but it needs sqlx's `macros`
//! feature, which compiles the SQL drivers (SQLite's C amalgamation included) a second time for
//! the proc-macro. The checksums are sqlx's own (`Migration::new`), so a journal migrated by
//! an earlier build that used the macro is recognised as up to date.

use std::borrow::Cow;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

/// `(file name, SQL)`, in order; the file name gives the version and description as sqlx's
/// file convention does (`0001_journal.sql`: version 1, "journal").
const FILES: &[(&str, &str)] = &[
    ("0001_journal.sql", include_str!("../../migrations/0001_journal.sql")),
    ("0002_central.sql", include_str!("../../migrations/0002_central.sql")),
    ("0003_printing.sql", include_str!("../../migrations/0003_printing.sql")),
    ("0004_staff_indexes.sql", include_str!("../../migrations/0004_staff_indexes.sql")),
    ("0005_job_payloads.sql", include_str!("../../migrations/0005_job_payloads.sql")),
    ("0006_leases.sql", include_str!("../../migrations/0006_leases.sql")),
];

/// Embedded migrations: all of them, or (tests) the first few, to build an older journal.
#[derive(Debug)]
struct Embedded(&'static [(&'static str, &'static str)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> futures_util::future::BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { self.0.iter().map(|(file, sql)| migration(file, sql)).collect() })
    }
}

fn migration(file: &str, sql: &'static str) -> Result<Migration, BoxDynError> {
    let stem = file.strip_suffix(".sql").ok_or_else(|| format!("migration {file} is not a .sql file"))?;
    let (version, description) =
        stem.split_once('_').ok_or_else(|| format!("migration {file} is not named VERSION_DESCRIPTION.sql"))?;
    let version: i64 = version.parse().map_err(|_| format!("migration {file} has no numeric version"))?;
    let description = description.replace('_', " ");
    Ok(Migration::new(version, Cow::Owned(description), MigrationType::Simple, Cow::Borrowed(sql), false))
}

/// The migrator over the embedded files.
pub(super) async fn migrator() -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded(FILES)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations directory")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
            .map(|path| path.file_name().expect("a file name").to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = FILES.iter().map(|(file, _)| *file).collect();
        assert_eq!(embedded, on_disk);
        let versions: Vec<i64> = FILES.iter().map(|(file, sql)| migration(file, sql).expect("valid").version).collect();
        assert_eq!(versions, vec![1, 2, 3, 4, 5, 6]);
    }

    #[tokio::test]
    async fn payloads_move_out_of_the_jobs_rows_and_nothing_is_lost() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("journal.db").display());
        let pool = sqlx::AnyPool::connect(&url).await.expect("open");
        Migrator::new(Embedded(&FILES[..4])).await.expect("migrator").run(&pool).await.expect("up to 0004");
        sqlx::query(
            "INSERT INTO jobs (id, event_id, state, office, template, priority, nik_masked, name, warnings,
                               payload, reason, attempts, created_at, updated_at, version)
             VALUES ('j1', 'e1', 'awaiting_authorization', '1502', 'ektp', 0, '1502**********01', 'HAMIDAH', '',
                     '{\"event_id\":\"e1\"}', 'r', 0, 1, 1, 1)",
        )
        .execute(&pool)
        .await
        .expect("a job of the older schema");

        migrator().await.expect("migrator").run(&pool).await.expect("all migrations");
        let payload: String = sqlx::query_scalar("SELECT payload FROM job_payloads WHERE job_id = 'j1'")
            .fetch_one(&pool)
            .await
            .expect("the payload moved");
        assert_eq!(payload, r#"{"event_id":"e1"}"#);
        let name: String = sqlx::query_scalar("SELECT name FROM jobs WHERE id = 'j1'").fetch_one(&pool).await.unwrap();
        assert_eq!(name, "HAMIDAH");
        assert!(sqlx::query("SELECT payload FROM jobs").fetch_all(&pool).await.is_err(), "no payload left in jobs");
    }

    #[test]
    fn descriptions_are_those_the_macro_recorded() {
        let migration = migration("0004_staff_indexes.sql", "select 1").expect("valid");
        assert_eq!(migration.description, "staff indexes");
    }
}
