//! The spool: rendered cards waiting for (and, for a while, after) their printer.
//!
//! One file per job, `<job-id>.pdf`, mode 0600 in a 0700 directory: a card carries a person's
//! identity and photo. Files are written atomically (temporary name, flush, rename).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::folder::write_atomically_with_mode;
use super::PrinterError;
use crate::domain::job::JobId;

const FILE_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;

#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PrinterError + '_ {
    move |source| PrinterError::Io { path: path.display().to_string(), source }
}

impl Spool {
    /// Opens the spool directory, creating it when missing, and makes it mode 0700 even when it
    /// existed: the PDFs in it carry people's data.
    ///
    /// # Errors
    /// [`PrinterError::Io`] when it cannot be created or its mode set.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Spool, PrinterError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(DIR_MODE)).map_err(io_error(&dir))?;
        Ok(Spool { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, job_id: JobId) -> PathBuf {
        self.dir.join(format!("{job_id}.pdf"))
    }

    /// Stores a job's PDF (mode 0600), replacing any earlier one. Blocking: the renderer calls
    /// it in the blocking task that drew the card (one thread hand-over a card fewer).
    ///
    /// # Errors
    /// [`PrinterError::Io`] when the file cannot be written.
    pub fn write_blocking(&self, job_id: JobId, pdf: &[u8]) -> Result<(), PrinterError> {
        write_atomically_with_mode(&self.path(job_id), pdf, FILE_MODE)
    }

    /// A job's PDF, or `None` when the spool has none.
    ///
    /// # Errors
    /// [`PrinterError::Io`] when it exists but cannot be read.
    pub async fn read(&self, job_id: JobId) -> Result<Option<Vec<u8>>, PrinterError> {
        let path = self.path(job_id);
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error(&path)(error)),
        }
    }

    /// Deletes a job's PDF; `false` when there was none.
    ///
    /// # Errors
    /// [`PrinterError::Io`] when it exists but cannot be removed.
    pub async fn remove(&self, job_id: JobId) -> Result<bool, PrinterError> {
        let path = self.path(job_id);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(io_error(&path)(error)),
        }
    }

    /// The jobs whose PDFs are in the spool (temporary files and strangers ignored).
    ///
    /// # Errors
    /// [`PrinterError::Io`] when the directory cannot be read.
    pub async fn jobs(&self) -> Result<Vec<JobId>, PrinterError> {
        let mut jobs = self.listing().await?.next_chunk(usize::MAX).await?;
        jobs.sort();
        Ok(jobs)
    }

    /// The spool's jobs a chunk at a time, in the directory's order: what looks at every card
    /// holds only a chunk of them at once, whatever the backlog (the spool holds every card
    /// drawn and waiting for a printer: hundreds of thousands in a long overload).
    ///
    /// # Errors
    /// [`PrinterError::Io`] when the directory cannot be opened.
    pub async fn listing(&self) -> Result<SpoolListing, PrinterError> {
        let entries = tokio::fs::read_dir(&self.dir).await.map_err(io_error(&self.dir))?;
        Ok(SpoolListing { dir: self.dir.clone(), entries })
    }
}

/// A walk through the spool's directory ([`Spool::listing`]). Files removed meanwhile may or may
/// not still be listed, as the directory is read while the spool changes; none of the others is
/// missed.
pub struct SpoolListing {
    dir: PathBuf,
    entries: tokio::fs::ReadDir,
}

impl SpoolListing {
    /// Up to `max` more jobs; empty at the end.
    ///
    /// # Errors
    /// [`PrinterError::Io`] when the directory cannot be read.
    pub async fn next_chunk(&mut self, max: usize) -> Result<Vec<JobId>, PrinterError> {
        let mut jobs = Vec::new();
        while jobs.len() < max {
            let Some(entry) = self.entries.next_entry().await.map_err(io_error(&self.dir))? else { break };
            let name = entry.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".pdf")) else { continue };
            if let Ok(job_id) = JobId::from_str(stem) {
                jobs.push(job_id);
            }
        }
        Ok(jobs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cards_are_private_to_the_spooler() {
        let root = tempfile::tempdir().unwrap();
        let spool = Spool::open(root.path().join("spool")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(spool.dir()), 0o700);
        let job = JobId::new();
        spool.write_blocking(job, b"%PDF card").unwrap();
        assert_eq!(mode(&spool.path(job)), 0o600);
        assert_eq!(spool.read(job).await.unwrap().as_deref(), Some(&b"%PDF card"[..]));
        std::fs::write(spool.dir().join("stranger.pdf"), b"x").unwrap();
        assert_eq!(spool.jobs().await.unwrap(), vec![job]);
        assert!(spool.remove(job).await.unwrap());
        assert!(!spool.remove(job).await.unwrap());
        assert_eq!(spool.read(job).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_listing_gives_every_spooled_job_once_a_chunk_at_a_time() {
        let root = tempfile::tempdir().unwrap();
        let spool = Spool::open(root.path().join("spool")).unwrap();
        let mut jobs: Vec<JobId> = (0..7).map(|_| JobId::new()).collect();
        for job in &jobs {
            spool.write_blocking(*job, b"%PDF card").unwrap();
        }
        std::fs::write(spool.dir().join("stranger.pdf"), b"x").unwrap();
        std::fs::write(spool.dir().join(".tmp-half-written"), b"x").unwrap();
        let mut listing = spool.listing().await.unwrap();
        let mut listed = Vec::new();
        let mut chunks = 0;
        loop {
            let chunk = listing.next_chunk(3).await.unwrap();
            if chunk.is_empty() {
                break;
            }
            assert!(chunk.len() <= 3, "a chunk holds at most what was asked: {chunk:?}");
            chunks += 1;
            listed.extend(chunk);
        }
        assert_eq!(chunks, 3, "seven jobs in chunks of three");
        listed.sort();
        jobs.sort();
        assert_eq!(listed, jobs);
    }

    #[test]
    fn an_existing_spool_directory_is_made_private_too() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("spool");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Spool::open(&dir).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    }
}
