//! A folder ("hot folder") printer: card-printing software watches a directory and prints what
//! appears there. Each card is `<job-name>.pdf` with a JSON sidecar `<job-name>.json`, each
//! written under a hidden temporary name, flushed, then renamed, so the watcher never sees a
//! half-written file. The sidecar comes first: when the PDF appears, its description is there.
//! The PDF, when the spool's flushed file can serve, is that file hard-linked in under the
//! temporary name instead: a card is then written and flushed once, not twice.
//!
//! A folder gives no feedback: a card is "completed" once its file is in place, and after a
//! crash the folder "cannot say" about a file that is not there (never written, or already
//! taken by the watcher).

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Lookup, PrinterError, PrinterStatus, RemoteJob, RemoteJobState, RemoteJobStatus, Submission};

/// Hot-folder files are readable by the card software's group, not by everyone.
const FILE_MODE: u32 = 0o640;

#[derive(Debug, Clone)]
pub struct FolderPrinter {
    root: PathBuf,
    /// Makes the renames in the folder durable; a test puts a failing one in.
    flush_folder: fn(&Path) -> std::io::Result<()>,
}

fn flush_folder(root: &Path) -> std::io::Result<()> {
    std::fs::File::open(root).and_then(|dir| dir.sync_all())
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PrinterError + '_ {
    move |source| PrinterError::Io { path: path.display().to_string(), source }
}

impl FolderPrinter {
    pub fn new(root: impl Into<PathBuf>) -> FolderPrinter {
        FolderPrinter { root: root.into(), flush_folder }
    }

    pub fn display_uri(&self) -> String {
        format!("dir://{}", self.root.display())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn file(&self, job_name: &str, extension: &str) -> Result<PathBuf, PrinterError> {
        if job_name.is_empty() || job_name.starts_with('.') || job_name.contains(['/', '\\', '\0']) {
            return Err(PrinterError::Refused { status: "bad job name".into(), message: Some(job_name.into()) });
        }
        Ok(self.root.join(format!("{job_name}.{extension}")))
    }

    pub async fn status(&self) -> Result<PrinterStatus, PrinterError> {
        match tokio::fs::metadata(&self.root).await {
            Ok(meta) if meta.is_dir() => Ok(PrinterStatus::idle()),
            Ok(_) => Err(PrinterError::Unreachable(format!("{} is not a directory", self.root.display()))),
            Err(error) => Err(PrinterError::Unreachable(format!("{}: {error}", self.root.display()))),
        }
    }

    /// Whether the folder would take a job of this name: any name that makes a file name of
    /// its own. Whether the folder is there is its [`FolderPrinter::status`], which the
    /// dispatcher has just asked: asking again cost a thread hand-over per card.
    ///
    /// # Errors
    /// [`PrinterError::Refused`] for a name that is not a plain file name.
    pub fn validate(&self, job_name: &str) -> Result<(), PrinterError> {
        self.file(job_name, "pdf").map(drop)
    }

    pub async fn submit(&self, submission: &Submission) -> Result<RemoteJob, PrinterError> {
        let pdf_path = self.file(&submission.job_name, "pdf")?;
        let json_path = self.file(&submission.job_name, "json")?;
        let sidecar = serde_json::json!({
            "job_name": submission.job_name,
            "document": pdf_path.file_name().map(|n| n.to_string_lossy().into_owned()),
            "content_type": "application/pdf",
            "bytes": submission.pdf.len(),
            "sha256": hex::encode(Sha256::digest(&submission.pdf)),
            "submitted_at": submission.submitted_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let sidecar = serde_json::to_vec_pretty(&sidecar).expect("a JSON value serialises");
        let pdf = submission.pdf.clone();
        let spooled = submission.spooled.clone();
        let root = self.root.clone();
        let flush = self.flush_folder;
        tokio::task::spawn_blocking(move || {
            write_atomically(&json_path, &sidecar)?;
            let placed = spooled
                .filter(|spooled| may_link(spooled, &root))
                .and_then(|spooled| link_atomically(&spooled, &pdf_path))
                .unwrap_or_else(|| write_atomically(&pdf_path, &pdf));
            if let Err(error) = placed {
                // A failed rename may still have put the card in place: then it is handed over.
                if pdf_path.exists() {
                    return Err(PrinterError::InDoubt(format!("the card is in the folder, but: {error}")));
                }
                let _ = std::fs::remove_file(&json_path);
                return Err(error);
            }
            // The card is handed over (the watcher may take it now): whatever fails from here,
            // the card may print, so it is never "not taken". The renames are durable once the
            // directory is flushed.
            flush(&root).map_err(|error| {
                PrinterError::InDoubt(format!(
                    "the card is in the folder, but flushing {} failed: {error}",
                    root.display()
                ))
            })
        })
        .await
        .map_err(|e| PrinterError::InDoubt(format!("writing to the folder was interrupted: {e}")))??;
        Ok(RemoteJob { printer_job_id: None, job_name: submission.job_name.clone() })
    }

    pub(crate) fn completed(job_name: &str) -> RemoteJobStatus {
        RemoteJobStatus {
            printer_job_id: None,
            job_name: job_name.to_owned(),
            state: RemoteJobState::Completed,
            reasons: Vec::new(),
            message: Some("in the hot folder".into()),
        }
    }

    pub async fn job_status(&self, job: &RemoteJob) -> Result<RemoteJobStatus, PrinterError> {
        match self.find_jobs(&job.job_name).await? {
            Lookup::Found(mut jobs) => Ok(jobs.remove(0)),
            Lookup::CannotSay => Err(PrinterError::NoSuchJob(job.job_name.clone())),
        }
    }

    pub async fn find_jobs(&self, job_name: &str) -> Result<Lookup, PrinterError> {
        self.status().await?;
        // The PDF is the card; a sidecar alone means the PDF never made it.
        if tokio::fs::try_exists(self.file(job_name, "pdf")?).await.unwrap_or(false) {
            return Ok(Lookup::Found(vec![Self::completed(job_name)]));
        }
        Ok(Lookup::CannotSay)
    }

    pub async fn cancel(&self, job: &RemoteJob) -> Result<(), PrinterError> {
        let mut removed = false;
        for extension in ["pdf", "json"] {
            let path = self.file(&job.job_name, extension)?;
            match tokio::fs::remove_file(&path).await {
                Ok(()) => removed = true,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(io_error(&path)(error)),
            }
        }
        if removed {
            Ok(())
        } else {
            Err(PrinterError::NoSuchJob(job.job_name.clone()))
        }
    }
}

/// Writes `bytes` to `path` through a hidden temporary file in the same directory, flushed
/// before the rename, so that `path` is either absent or complete.
pub(crate) fn write_atomically_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PrinterError> {
    use std::os::unix::fs::OpenOptionsExt;
    let temporary = temporary_beside(path);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(io_error(path))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PrinterError> {
    write_atomically_with_mode(path, bytes, FILE_MODE)
}

/// A hidden name of its own beside `path`, in the same directory (so that a rename is atomic),
/// which the folder's watcher ignores.
fn temporary_beside(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()))
}

/// Whether the spool's file can become the folder's without the card software seeing it
/// differently from a file written there: a hard link keeps the spool's owner and group and
/// inherits nothing from the folder, so a folder that gives its files its own group (setgid)
/// or a default ACL gets a written copy instead.
fn may_link(spooled: &Path, folder: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    const SET_GID: u32 = 0o2000;
    let (Ok(file), Ok(dir)) = (std::fs::metadata(spooled), std::fs::metadata(folder)) else { return false };
    let group_differs = dir.mode() & SET_GID != 0 && dir.gid() != file.gid();
    !group_differs && !has_default_acl(folder)
}

fn has_default_acl(folder: &Path) -> bool {
    // A filesystem that cannot say counts as having one: the copy is always right.
    match rustix::fs::getxattr_query(folder, "system.posix_acl_default") {
        Ok(_) => true,
        Err(error) => error != rustix::io::Errno::NODATA && error != rustix::io::Errno::NOTSUP,
    }
}

/// Puts the spool's (flushed) file in the folder as `path` without copying it: a hard link
/// under a hidden temporary name, made group-readable as the folder's files are, then renamed
/// over `path`, so that `path` is either absent or complete. The folder is flushed by the
/// caller. Saves the card's second write and flush, and a new file, per card. `None` when it
/// cannot link here (another filesystem, no hard links, the spool's file gone): the card is
/// then written instead; `Some(Err)` when it linked and the rename failed.
fn link_atomically(spooled: &Path, path: &Path) -> Option<Result<(), PrinterError>> {
    use std::os::unix::fs::PermissionsExt;
    let temporary = temporary_beside(path);
    // The spool's directory (0700) keeps the file private there; in the folder it is the
    // folder's mode.
    std::fs::set_permissions(spooled, std::fs::Permissions::from_mode(FILE_MODE))
        .and_then(|()| std::fs::hard_link(spooled, &temporary))
        .ok()?;
    let renamed = std::fs::rename(&temporary, path);
    // Renaming a name over another of the same file does nothing and succeeds (rename(2)): the
    // card was there already (sent again), and its temporary name must not stay behind.
    let _ = std::fs::remove_file(&temporary);
    Some(renamed.map_err(io_error(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission(name: &str) -> Submission {
        Submission {
            job_name: name.into(),
            pdf: b"%PDF-1.4 card".to_vec(),
            submitted_at: chrono::Utc::now(),
            spooled: None,
        }
    }

    #[tokio::test]
    async fn a_card_lands_with_its_sidecar_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let printer = FolderPrinter::new(dir.path());
        let job = printer.submit(&submission("job-1")).await.unwrap();
        assert_eq!(job, RemoteJob { printer_job_id: None, job_name: "job-1".into() });
        assert_eq!(names_in(dir.path()), ["job-1.json", "job-1.pdf"]);
        assert_eq!(std::fs::read(dir.path().join("job-1.pdf")).unwrap(), b"%PDF-1.4 card");
        let sidecar: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("job-1.json")).unwrap()).unwrap();
        assert_eq!(sidecar["document"], "job-1.pdf");
        assert_eq!(sidecar["bytes"], 13);
        assert_eq!(printer.job_status(&job).await.unwrap().state, RemoteJobState::Completed);
        assert!(matches!(printer.find_jobs("job-1").await.unwrap(), Lookup::Found(_)));
        assert_eq!(printer.find_jobs("job-2").await.unwrap(), Lookup::CannotSay);
        printer.cancel(&job).await.unwrap();
        assert_eq!(printer.find_jobs("job-1").await.unwrap(), Lookup::CannotSay);
    }

    #[test]
    fn a_folder_takes_any_job_whose_name_makes_a_file_name_of_its_own() {
        // No folder at all: validating asks nothing of the disk (the status does).
        let printer = FolderPrinter::new("/nonexistent/cardspool-hot-folder");
        printer.validate("0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b").unwrap();
        for name in ["", ".hidden", "../escape", "a/b", "a\\b", "nul\0"] {
            assert!(matches!(printer.validate(name), Err(PrinterError::Refused { .. })), "{name:?}");
        }
    }

    /// A card in a spool directory of its own, as the spool keeps it (0600, flushed).
    fn spooled_card(spool: &Path, name: &str) -> Submission {
        let path = spool.join(format!("{name}.pdf"));
        write_atomically_with_mode(&path, b"%PDF-1.4 spooled card", 0o600).unwrap();
        Submission { pdf: std::fs::read(&path).unwrap(), spooled: Some(path), ..submission(name) }
    }

    fn inode(path: &Path) -> u64 {
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap())
    }

    fn mode(path: &Path) -> u32 {
        std::os::unix::fs::MetadataExt::mode(&std::fs::metadata(path).unwrap()) & 0o7777
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_spooled_card_is_linked_into_the_folder_not_written_again() {
        let (spool, folder) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let printer = FolderPrinter::new(folder.path());
        let card = spooled_card(spool.path(), "job-1");
        printer.submit(&card).await.unwrap();
        assert_eq!(names_in(folder.path()), ["job-1.json", "job-1.pdf"]);
        let (in_spool, in_folder) = (spool.path().join("job-1.pdf"), folder.path().join("job-1.pdf"));
        assert_eq!(inode(&in_folder), inode(&in_spool), "one file under two names");
        assert_eq!(mode(&in_folder), FILE_MODE, "readable by the card software's group");
        assert_eq!(std::fs::read(&in_folder).unwrap(), b"%PDF-1.4 spooled card");
        // Sent again (after an answer in doubt), it replaces itself; the spool's name stays.
        printer.submit(&card).await.unwrap();
        assert_eq!(names_in(folder.path()), ["job-1.json", "job-1.pdf"]);
        assert_eq!(names_in(spool.path()), ["job-1.pdf"]);
    }

    #[tokio::test]
    async fn a_spool_on_another_filesystem_gets_a_written_copy() {
        // /dev/shm is a tmpfs of its own: a hard link from there to the temporary directory
        // fails with EXDEV.
        let spool = tempfile::tempdir_in("/dev/shm").expect("/dev/shm: a tmpfs on Linux");
        let folder = tempfile::tempdir().unwrap();
        assert_ne!(
            std::os::unix::fs::MetadataExt::dev(&std::fs::metadata(spool.path()).unwrap()),
            std::os::unix::fs::MetadataExt::dev(&std::fs::metadata(folder.path()).unwrap()),
            "the test needs TMPDIR off /dev/shm"
        );
        let printer = FolderPrinter::new(folder.path());
        printer.submit(&spooled_card(spool.path(), "job-1")).await.unwrap();
        assert_eq!(names_in(folder.path()), ["job-1.json", "job-1.pdf"]);
        assert_eq!(std::fs::read(folder.path().join("job-1.pdf")).unwrap(), b"%PDF-1.4 spooled card");
        assert_eq!(mode(&folder.path().join("job-1.pdf")), FILE_MODE);
    }

    #[tokio::test]
    async fn a_folder_with_a_default_acl_gets_a_written_copy_that_inherits_it() {
        let (spool, folder) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // A default ACL that lets the card software's group read (user::rwx, group::r-x,
        // group:4242:r--, mask::r-x, other::---), in the kernel's xattr form: a version, then
        // (tag, permissions, id) entries sorted by tag.
        let mut acl = 2u32.to_le_bytes().to_vec();
        for (tag, permissions, id) in
            [(0x01u16, 7u16, u32::MAX), (0x04, 5, u32::MAX), (0x08, 4, 4242), (0x10, 5, u32::MAX), (0x20, 0, u32::MAX)]
        {
            acl.extend(tag.to_le_bytes());
            acl.extend(permissions.to_le_bytes());
            acl.extend(id.to_le_bytes());
        }
        rustix::fs::setxattr(folder.path(), "system.posix_acl_default", &acl, rustix::fs::XattrFlags::empty())
            .expect("the temporary directory's filesystem takes ACLs (ext4, tmpfs, xfs do)");
        assert!(has_default_acl(folder.path()));
        let printer = FolderPrinter::new(folder.path());
        printer.submit(&spooled_card(spool.path(), "job-1")).await.unwrap();
        let in_folder = folder.path().join("job-1.pdf");
        assert_ne!(inode(&in_folder), inode(&spool.path().join("job-1.pdf")), "a copy, made in the folder");
        assert!(
            rustix::fs::getxattr_query(&in_folder, "system.posix_acl_access").is_ok(),
            "the copy took the folder's ACL"
        );
    }

    #[tokio::test]
    async fn a_folder_that_gives_its_group_gets_a_written_copy() {
        use std::os::unix::fs::PermissionsExt;
        let (spool, folder) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let card = spooled_card(spool.path(), "job-1");
        let file_gid = std::os::unix::fs::MetadataExt::gid(&std::fs::metadata(spool.path().join("job-1.pdf")).unwrap());
        // The card software's group, another than the spooler's (changing it needs root).
        std::os::unix::fs::chown(folder.path(), None, Some(file_gid + 1)).expect("run as root (CI does)");
        std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o2770)).unwrap();
        let printer = FolderPrinter::new(folder.path());
        printer.submit(&card).await.unwrap();
        let in_folder = folder.path().join("job-1.pdf");
        assert_eq!(std::os::unix::fs::MetadataExt::gid(&std::fs::metadata(&in_folder).unwrap()), file_gid + 1);
        assert_eq!(std::fs::read(&in_folder).unwrap(), b"%PDF-1.4 spooled card");
    }

    #[tokio::test]
    async fn a_missing_folder_is_an_unreachable_printer() {
        let dir = tempfile::tempdir().unwrap();
        let printer = FolderPrinter::new(dir.path().join("absent"));
        assert!(matches!(printer.status().await, Err(PrinterError::Unreachable(_))));
        let error = printer.submit(&submission("job-1")).await.unwrap_err();
        assert!(!error.may_have_taken_job(), "{error}");
    }

    #[tokio::test]
    async fn an_error_after_the_card_is_in_the_folder_is_in_doubt_never_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let printer =
            FolderPrinter { flush_folder: |_| Err(std::io::Error::other("EIO")), ..FolderPrinter::new(dir.path()) };
        let error = printer.submit(&submission("job-1")).await.unwrap_err();
        assert!(error.may_have_taken_job(), "the card is in the folder: {error}");
        assert!(error.to_string().contains("the card is in the folder, but flushing"), "{error}");
        // Asked afterwards, the folder says the card is there: printed, not sent again.
        assert!(matches!(printer.find_jobs("job-1").await.unwrap(), Lookup::Found(_)));
    }

    #[tokio::test]
    async fn job_names_cannot_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let printer = FolderPrinter::new(dir.path());
        for name in ["../escape", ".hidden", "", "a/b"] {
            assert!(printer.submit(&submission(name)).await.is_err(), "{name:?}");
        }
    }
}
