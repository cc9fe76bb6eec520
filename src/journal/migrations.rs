//! The journal's schema migrations, embedded in the binary and run by sqlx's runtime `Migrator`.
//!
//! sqlx's `migrate!` macro would do the same at compile time, but it needs sqlx's `macros`
//! feature, which compiles the SQL drivers (SQLite's C amalgamation included) a second time for
//! the proc-macro. The checksums are sqlx's own (`Migration::new`), so a journal migrated by
//! an earlier build that used the macro is recognised as up to date.

use std::borrow::Cow;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Row as _};

use super::{JournalError, StoredAuthorization};
use crate::domain::card_digest::card_digest;
use crate::domain::event::{parse_admitted_event, ImageLimits};

/// `(file name, SQL)`, in order; the file name gives the version and description as sqlx's
/// file convention does (`0001_journal.sql`: version 1, "journal").
const FILES: &[(&str, &str)] = &[
    ("0001_journal.sql", include_str!("../../migrations/0001_journal.sql")),
    ("0002_central.sql", include_str!("../../migrations/0002_central.sql")),
    ("0003_printing.sql", include_str!("../../migrations/0003_printing.sql")),
    ("0004_staff_indexes.sql", include_str!("../../migrations/0004_staff_indexes.sql")),
    ("0005_job_payloads.sql", include_str!("../../migrations/0005_job_payloads.sql")),
    ("0006_leases.sql", include_str!("../../migrations/0006_leases.sql")),
    ("0007_typed_columns.sql", include_str!("../../migrations/0007_typed_columns.sql")),
    ("0008_nik_searches.sql", include_str!("../../migrations/0008_nik_searches.sql")),
    ("0009_payload_retention.sql", include_str!("../../migrations/0009_payload_retention.sql")),
    ("0010_blank_stock.sql", include_str!("../../migrations/0010_blank_stock.sql")),
    ("0011_claim_order.sql", include_str!("../../migrations/0011_claim_order.sql")),
    ("0012_claim_by_template.sql", include_str!("../../migrations/0012_claim_by_template.sql")),
];

/// The migration whose columns [`backfill_typed_columns`] fills for older jobs.
const TYPED_COLUMNS: i64 = 7;
/// Jobs read per statement by the backfill.
const BACKFILL_BATCH: i64 = 500;

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

/// The version of the last embedded migration.
fn newest_version() -> i64 {
    FILES.last().and_then(|(file, sql)| migration(file, sql).ok()).map_or(0, |migration| migration.version)
}

/// Brings the schema up to date, and fills the typed columns of jobs journaled before they
/// existed when this run added them.
pub(super) async fn migrate(pool: &AnyPool) -> Result<(), JournalError> {
    // No table yet (a new journal) reads as "not applied": the backfill then finds no job.
    let had_typed_columns = sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE version = $1")
        .bind(TYPED_COLUMNS)
        .fetch_optional(pool)
        .await
        .is_ok_and(|version| version.is_some());
    match migrator().await?.run(pool).await {
        // An older build started on a journal a newer one migrated (a rollback, or one instance
        // of several restarted before the others were upgraded): refuse it, changing nothing.
        Err(sqlx::migrate::MigrateError::VersionMissing(applied)) => {
            return Err(JournalError::MigratedByNewer { applied, known: newest_version() });
        }
        outcome => outcome?,
    }
    if !had_typed_columns {
        backfill_typed_columns(pool).await?;
    }
    Ok(())
}

/// The full NIK and the card's digest from each older job's event, and the id and expiry from
/// its stored authorization. A job whose event cannot be read keeps neither: asking central for
/// it then fails it for staff, as reading its event did before.
async fn backfill_typed_columns(pool: &AnyPool) -> Result<(), JournalError> {
    // The event was validated when it was admitted: only its fields are read again.
    let admitted = ImageLimits {
        photo_max_bytes: usize::MAX / 8,
        photo_max_pixels: u64::MAX,
        signature_max_bytes: usize::MAX / 8,
        signature_max_pixels: u64::MAX,
    };
    let mut after = String::new();
    loop {
        let rows = sqlx::query(
            "SELECT jobs.id, jobs.template, job_payloads.payload, jobs.authorization_json FROM jobs
             JOIN job_payloads ON job_payloads.job_id = jobs.id
             WHERE jobs.nik IS NULL AND jobs.id > $1 ORDER BY jobs.id LIMIT $2",
        )
        .bind(&after)
        .bind(BACKFILL_BATCH)
        .fetch_all(pool)
        .await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.try_get("id")?;
        for row in &rows {
            let payload: String = row.try_get("payload")?;
            let authorization: Option<String> = row.try_get("authorization_json")?;
            let template: String = row.try_get("template")?;
            let event = parse_admitted_event(payload.as_bytes(), &admitted).ok();
            let nik = event.as_ref().map(|event| event.nik.as_str().to_owned());
            let digest = event.as_ref().map(|event| card_digest(event, &template));
            let stored = authorization.as_deref().and_then(StoredAuthorization::from_json);
            sqlx::query(
                "UPDATE jobs SET nik = $1, card_digest = $2, authorization_id = $3, authorization_expires_at = $4
                 WHERE id = $5",
            )
            .bind(nik)
            .bind(digest)
            .bind(stored.as_ref().map(|a| a.id.clone()))
            .bind(stored.as_ref().map(|a| a.expires_at.timestamp_millis()))
            .bind(row.try_get::<String, _>("id")?)
            .execute(pool)
            .await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty SQLite journal file, no migration run; the directory goes when dropped.
    async fn scratch_journal() -> (tempfile::TempDir, AnyPool) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("journal.db").display());
        let pool = sqlx::AnyPool::connect(&url).await.expect("open");
        (dir, pool)
    }

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
        assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }

    #[tokio::test]
    async fn a_claim_walks_its_index_and_sorts_nothing() {
        let (_dir, pool) = scratch_journal().await;
        migrator().await.expect("migrator").run(&pool).await.expect("all migrations");
        let plan = sqlx::query(&format!("EXPLAIN QUERY PLAN {}", super::super::writer::claim_due_sql(false)))
            .fetch_all(&pool)
            .await
            .expect("a plan");
        let plan: Vec<String> = plan.iter().map(|row| row.try_get("detail").expect("a step")).collect();
        // A sort means every job in the state is read for each claim: 86-103 ms with 100,000
        // jobs waiting, on the writer every commit waits for.
        assert!(plan.iter().any(|step| step.contains("jobs_by_claim_order")), "{plan:?}");
        assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{plan:?}");
    }

    #[tokio::test]
    async fn a_claim_of_one_templates_drawable_jobs_walks_its_own_index() {
        let (_dir, pool) = scratch_journal().await;
        migrator().await.expect("migrator").run(&pool).await.expect("all migrations");
        let sql = super::super::writer::claim_due_of_template_sql(crate::domain::job::JobState::Authorized, false);
        let plan = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}")).fetch_all(&pool).await.expect("a plan");
        let plan: Vec<String> = plan.iter().map(|row| row.try_get("detail").expect("a step")).collect();
        // Through `jobs_by_claim_order` it would step over every authorized job of the other
        // templates ahead in the claim order: a pool whose printers stopped, with its backlog.
        assert!(plan.iter().any(|step| step.contains("jobs_authorized_by_template")), "{plan:?}");
        assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "{plan:?}");
    }

    #[tokio::test]
    async fn payloads_move_out_of_the_jobs_rows_and_nothing_is_lost() {
        let (_dir, pool) = scratch_journal().await;
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

    #[tokio::test]
    async fn older_jobs_get_their_typed_columns_from_their_event_and_answer() {
        type Typed = (String, Option<String>, Option<String>, Option<i64>, Option<String>);
        let (_dir, pool) = scratch_journal().await;
        Migrator::new(Embedded(&FILES[..6])).await.expect("migrator").run(&pool).await.expect("up to 0006");
        let authorization = r#"{"authorization_id":"a-7","nik":"1502015203850001","enrollment_id":"e1","issued_at":"2026-12-01T00:00:00Z","expires_at":"2026-12-02T00:00:00Z","key_id":"k","signature":"s"}"#;
        let sample = |file: &str| {
            std::fs::read_to_string(format!("{}/samples/events/{file}", env!("CARGO_MANIFEST_DIR"))).expect("a sample")
        };
        let (hamidah, sutrisno) = (sample("01-merangin-hamidah.json"), sample("02-merangin-sutrisno.json"));
        let nik_of = |event: &str| parse_admitted_event(event.as_bytes(), &ImageLimits::default()).unwrap().nik;
        let (nik1, nik2) = (nik_of(&hamidah).as_str().to_owned(), nik_of(&sutrisno).as_str().to_owned());
        let authorization = authorization.replace("1502015203850001", &nik1);
        for (id, event, stored) in [
            ("j1", hamidah.as_str(), Some(authorization.as_str())),
            ("j2", sutrisno.as_str(), None),
            ("j3", "not an event", None),
        ] {
            sqlx::query(
                "INSERT INTO jobs (id, event_id, state, office, template, priority, nik_masked, name, warnings,
                                   reason, attempts, created_at, updated_at, version, authorization_json)
                 VALUES ($1, $2, 'authorized', '1502', 'ektp', 0, 'm', 'n', '', 'r', 0, 1, 1, 1, $3)",
            )
            .bind(id)
            .bind(format!("{id}-event"))
            .bind(stored)
            .execute(&pool)
            .await
            .expect("a job of the older schema");
            sqlx::query("INSERT INTO job_payloads (job_id, payload) VALUES ($1, $2)")
                .bind(id)
                .bind(event)
                .execute(&pool)
                .await
                .expect("its event");
        }

        migrate(&pool).await.expect("all migrations and the backfill");
        let rows: Vec<Typed> = sqlx::query_as(
            "SELECT id, nik, authorization_id, authorization_expires_at, card_digest FROM jobs ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let expires = chrono::DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z").unwrap().timestamp_millis();
        let digest = |event: &str| {
            Some(card_digest(&parse_admitted_event(event.as_bytes(), &ImageLimits::default()).unwrap(), "ektp"))
        };
        assert_eq!(
            rows,
            vec![
                ("j1".into(), Some(nik1), Some("a-7".into()), Some(expires), digest(&hamidah)),
                ("j2".into(), Some(nik2), None, None, digest(&sutrisno)),
                ("j3".into(), None, None, None, None),
            ]
        );
        migrate(&pool).await.expect("a second open changes nothing");
    }

    #[tokio::test]
    async fn a_journal_migrated_by_a_newer_build_is_refused_and_left_as_it_is() {
        let (_dir, pool) = scratch_journal().await;
        migrate(&pool).await.expect("all migrations");
        // What a newer build's next migration leaves behind in sqlx's table.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99, 'from the future', TRUE, X'00', 0)",
        )
        .execute(&pool)
        .await
        .expect("a newer migration recorded");

        let error = migrate(&pool).await.expect_err("an older build refuses the journal");
        let newest = newest_version();
        assert_eq!(newest, 12);
        assert!(matches!(error, JournalError::MigratedByNewer { applied: 99, known } if known == newest), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("newer cardspool") && message.contains("backup"), "{message}");
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version").fetch_all(&pool).await.unwrap();
        assert_eq!(versions, (1..=newest).chain([99]).collect::<Vec<i64>>());
    }

    #[test]
    fn descriptions_are_those_the_macro_recorded() {
        let migration = migration("0004_staff_indexes.sql", "select 1").expect("valid");
        assert_eq!(migration.description, "staff indexes");
    }
}
