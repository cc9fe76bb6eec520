//! Printers: one boundary ([`Printer`]) over the ways a card reaches a card printer, the pools
//! that group them ([`pool::Printers`]), and the spool where rendered cards wait ([`spool::Spool`]).
//!
//! Two kinds of printer sit behind the boundary:
//! - IPP and IPPS ([`ipp::IppPrinter`]): network printers, and CUPS queues, through which a card
//!   printer's vendor driver is reached;
//! - a folder ("hot folder", [`folder::FolderPrinter`]) that card-printing software watches.
//!
//! Architecture invariant: this module knows nothing of jobs' states or of the journal. It
//! answers "did the printer take it", "what became of it" and "what state is the printer in";
//! the dispatch worker decides what that means for a job. IPP attribute names stay here.

pub mod folder;
pub mod ipp;
pub mod pool;
pub mod spool;
pub mod test_card;

use crate::i18n::Lang;
use crate::tr;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{PrinterConfig, PrintingConfig};

/// One printer, whatever its kind. An enum rather than a trait object: there are two kinds,
/// both known here, and their operations are async.
#[derive(Debug)]
pub enum Printer {
    Ipp(Box<ipp::IppPrinter>),
    Folder(folder::FolderPrinter),
}

#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    #[error("printer URI {uri:?} is not usable: {reason}")]
    BadUri { uri: String, reason: String },
    /// The request never reached the printer (connection refused, no route, name unknown).
    #[error("printer unreachable: {0}")]
    Unreachable(String),
    /// The request may or may not have been acted upon (timeout or connection lost after
    /// sending, an answer that cannot be read). For a submission: the card may be printing.
    #[error("no usable answer from the printer (it may have acted on the request): {0}")]
    InDoubt(String),
    /// `server-error-busy`, still after the configured retries.
    #[error("printer busy with another job")]
    Busy,
    /// The printer answered and said no (an IPP error status, or an HTTP error).
    #[error("printer refused the request: {status}{}", message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Refused { status: String, message: Option<String> },
    /// The printer does not know this job (never got it, or forgot it).
    #[error("printer has no job {0}")]
    NoSuchJob(String),
    #[error("printer's answer lacks {0}")]
    Protocol(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl PrinterError {
    /// Whether asking again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PrinterError::Unreachable(_) | PrinterError::InDoubt(_) | PrinterError::Busy | PrinterError::Io { .. }
        ) || matches!(self, PrinterError::Refused { status, .. } if status.starts_with("server-error"))
    }

    /// For a submission: whether the printer may have taken the job despite the error. Only
    /// then must the job be reconciled before it may be sent anywhere again.
    pub fn may_have_taken_job(&self) -> bool {
        matches!(self, PrinterError::InDoubt(_))
    }
}

/// A card to print: the PDF and the name the printer files it under (the job id).
#[derive(Debug, Clone)]
pub struct Submission {
    pub job_name: String,
    pub pdf: Vec<u8>,
    pub submitted_at: DateTime<Utc>,
    /// The spool's file holding exactly `pdf`, already flushed, when there is one: a hot folder
    /// on the same filesystem links it instead of writing and flushing the card a second time.
    pub spooled: Option<std::path::PathBuf>,
}

/// What the printer calls the job it took: its own id where it has one (IPP), and always the
/// name we gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteJob {
    pub printer_job_id: Option<i64>,
    pub job_name: String,
}

/// Where a job stands on the printer (IPP `job-state`, without the held/stopped nuances that
/// only mean "not finished").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteJobState {
    Pending,
    Processing,
    Completed,
    Aborted,
    Cancelled,
}

impl RemoteJobState {
    pub fn is_finished(self) -> bool {
        matches!(self, RemoteJobState::Completed | RemoteJobState::Aborted | RemoteJobState::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RemoteJobState::Pending => "pending",
            RemoteJobState::Processing => "processing",
            RemoteJobState::Completed => "completed",
            RemoteJobState::Aborted => "aborted",
            RemoteJobState::Cancelled => "cancelled",
        }
    }
}

/// A job as the printer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteJobStatus {
    pub printer_job_id: Option<i64>,
    pub job_name: String,
    pub state: RemoteJobState,
    /// `job-state-reasons`, severity suffixes stripped.
    pub reasons: Vec<String>,
    pub message: Option<String>,
}

/// What a printer can say about a job name, for reconciliation after a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The printer knows the job (more than one entry: it was sent more than once).
    Found(Vec<RemoteJobStatus>),
    /// The printer lists no such job: it never got it, or it has forgotten it. Either way it
    /// cannot say whether the card printed.
    CannotSay,
}

/// `printer-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceState {
    Idle,
    Processing,
    Stopped,
}

/// A condition that stops a printer taking jobs until it clears or staff resume it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// `media-jam`: a card is stuck; the job in hand is aborted and its blank spoiled.
    MediaJam,
    /// `media-empty` / `media-needed`: the card hopper is empty.
    HopperEmpty,
    /// `marker-supply-empty`: the ribbon is used up.
    RibbonEmpty,
    /// `cover-open` / `door-open`.
    CoverOpen,
    /// `offline` / `shutdown`.
    Offline,
    /// The printer does not answer (connection refused, timeout).
    Unreachable(String),
    /// `printer-state` is stopped, or `printer-is-accepting-jobs` is false, for another reason.
    Stopped(String),
    /// Another reason the printer reported with severity `error`.
    Other(String),
}

impl Fault {
    /// The IPP keyword (or a short label) staff see.
    pub fn label(&self) -> String {
        match self {
            Fault::MediaJam => tr!(Lang::En, "said-fault-media-jam"),
            Fault::HopperEmpty => tr!(Lang::En, "said-fault-hopper-empty"),
            Fault::RibbonEmpty => tr!(Lang::En, "said-fault-ribbon-empty"),
            Fault::CoverOpen => tr!(Lang::En, "said-fault-cover-open"),
            Fault::Offline => tr!(Lang::En, "said-fault-offline"),
            Fault::Unreachable(detail) => tr!(Lang::En, "said-fault-unreachable", detail = detail),
            Fault::Stopped(detail) => tr!(Lang::En, "said-fault-stopped", detail = detail),
            Fault::Other(reason) => reason.clone(),
        }
    }

    /// Whether a job aborted under this fault used up its blank. Empty hopper, empty ribbon
    /// and an open cover stop the printer before a card is fed; a jam eats the card.
    pub fn consumes_blank(&self) -> bool {
        !matches!(self, Fault::HopperEmpty | Fault::RibbonEmpty | Fault::CoverOpen)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// A printer's state as it reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterStatus {
    pub state: DeviceState,
    pub accepting_jobs: bool,
    /// `printer-state-reasons` with the severity suffix (`-error`, `-warning`, `-report`)
    /// stripped, `none` left out.
    pub reasons: Vec<String>,
    /// Reasons that carried `-error`, stripped (an unknown reason is a fault only then).
    pub error_reasons: Vec<String>,
    pub message: Option<String>,
    pub queued_jobs: Option<i64>,
}

impl PrinterStatus {
    /// A printer with nothing to report.
    pub fn idle() -> PrinterStatus {
        PrinterStatus {
            state: DeviceState::Idle,
            accepting_jobs: true,
            reasons: Vec::new(),
            error_reasons: Vec::new(),
            message: None,
            queued_jobs: None,
        }
    }

    /// The faults among the reasons, ignoring those in `acknowledged` (reasons staff resumed
    /// the printer over, which a printer may go on reporting until its next job).
    pub fn faults(&self, acknowledged: &[String]) -> Vec<Fault> {
        let mut faults: Vec<Fault> = Vec::new();
        for reason in self.reasons.iter().filter(|r| !acknowledged.contains(r)) {
            let fault = match reason.as_str() {
                "media-jam" => Some(Fault::MediaJam),
                "media-empty" | "media-needed" => Some(Fault::HopperEmpty),
                "marker-supply-empty" => Some(Fault::RibbonEmpty),
                "cover-open" | "door-open" => Some(Fault::CoverOpen),
                "offline" | "shutdown" => Some(Fault::Offline),
                other if self.error_reasons.iter().any(|r| r == other) => Some(Fault::Other(other.to_owned())),
                _ => None,
            };
            if let Some(fault) = fault {
                if !faults.contains(&fault) {
                    faults.push(fault);
                }
            }
        }
        let unacknowledged = |reason: &str| !acknowledged.iter().any(|a| a == reason);
        if faults.is_empty() && self.state == DeviceState::Stopped && unacknowledged("printer-stopped") {
            faults.push(Fault::Stopped(self.message.clone().unwrap_or_else(|| "printer-state stopped".into())));
        }
        if faults.is_empty() && !self.accepting_jobs && unacknowledged("not-accepting-jobs") {
            faults.push(Fault::Stopped("not accepting jobs".into()));
        }
        faults
    }

    /// What staff acknowledge when they resume the printer: the reasons now reported, plus
    /// markers for a stopped or refusing printer.
    pub fn acknowledgeable(&self) -> Vec<String> {
        let mut reasons = self.reasons.clone();
        if self.state == DeviceState::Stopped {
            reasons.push("printer-stopped".into());
        }
        if !self.accepting_jobs {
            reasons.push("not-accepting-jobs".into());
        }
        reasons
    }
}

/// Strips an IPP state reason's severity suffix: `media-jam-report` → `media-jam`.
/// Returns the keyword and whether the severity was `error`.
pub fn strip_severity(reason: &str) -> (&str, bool) {
    if let Some(keyword) = reason.strip_suffix("-error") {
        (keyword, true)
    } else if let Some(keyword) = reason.strip_suffix("-warning").or_else(|| reason.strip_suffix("-report")) {
        (keyword, false)
    } else {
        (reason, false)
    }
}

/// How long to wait between polls, and how long an unreachable printer is given.
#[derive(Debug, Clone, Copy)]
pub struct FollowPolicy {
    pub poll: Duration,
    /// Consecutive time the printer may not answer before following gives up.
    pub unreachable_grace: Duration,
}

impl Printer {
    /// Builds the adapter a configured printer's URI names.
    ///
    /// # Errors
    /// [`PrinterError::BadUri`] for a URI of another scheme or one that does not parse.
    pub fn from_config(config: &PrinterConfig, printing: &PrintingConfig) -> Result<Printer, PrinterError> {
        if let Some(path) = config.uri.strip_prefix("dir://") {
            if !path.starts_with('/') {
                return Err(PrinterError::BadUri {
                    uri: config.uri.clone(),
                    reason: "a folder printer needs an absolute path: dir:///path".into(),
                });
            }
            return Ok(Printer::Folder(folder::FolderPrinter::new(path)));
        }
        let options = ipp::IppOptions {
            request_timeout: Duration::from_millis(printing.request_timeout_ms),
            busy_retry: Duration::from_millis(printing.busy_retry_ms),
            busy_retries: printing.busy_retries,
            ignore_tls_errors: config.ignore_tls_errors,
        };
        Ok(Printer::Ipp(Box::new(ipp::IppPrinter::new(&config.uri, options)?)))
    }

    /// The printer's address for staff, without credentials.
    pub fn display_uri(&self) -> String {
        match self {
            Printer::Ipp(printer) => printer.display_uri(),
            Printer::Folder(printer) => printer.display_uri(),
        }
    }

    /// The printer's state (Get-Printer-Attributes).
    ///
    /// # Errors
    /// [`PrinterError::Unreachable`] when it does not answer; others as the adapter says.
    pub async fn status(&self) -> Result<PrinterStatus, PrinterError> {
        match self {
            Printer::Ipp(printer) => printer.status().await,
            Printer::Folder(printer) => printer.status().await,
        }
    }

    /// Asks whether the printer would take this job (Validate-Job), without printing. A folder
    /// checks the job's name only: whether it is there is its status.
    ///
    /// # Errors
    /// [`PrinterError::Refused`] when it would not; transport errors as for [`Printer::status`].
    pub async fn validate(&self, job_name: &str) -> Result<(), PrinterError> {
        match self {
            Printer::Ipp(printer) => printer.validate(job_name).await,
            Printer::Folder(printer) => printer.validate(job_name),
        }
    }

    /// Sends a card (Print-Job with `job-name`), retrying `server-error-busy`.
    ///
    /// # Errors
    /// [`PrinterError::may_have_taken_job`] tells whether the card may still print.
    pub async fn submit(&self, submission: &Submission) -> Result<RemoteJob, PrinterError> {
        match self {
            Printer::Ipp(printer) => printer.submit(submission).await,
            Printer::Folder(printer) => printer.submit(submission).await,
        }
    }

    /// The job's end, when the submission itself settles it: a card renamed into a hot folder
    /// is complete (what the watcher does with it is no longer the spooler's to follow). `None`
    /// for a printer whose jobs are followed to their end (IPP).
    pub fn finished_at_submit(&self, job: &RemoteJob) -> Option<RemoteJobStatus> {
        match self {
            Printer::Ipp(_) => None,
            Printer::Folder(_) => Some(folder::FolderPrinter::completed(&job.job_name)),
        }
    }

    /// Where one job stands (Get-Job-Attributes).
    ///
    /// # Errors
    /// [`PrinterError::NoSuchJob`] when the printer does not know it (or knows that id under
    /// another name: ids are reused after a printer restarts).
    pub async fn job_status(&self, job: &RemoteJob) -> Result<RemoteJobStatus, PrinterError> {
        match self {
            Printer::Ipp(printer) => printer.job_status(job).await,
            Printer::Folder(printer) => printer.job_status(job).await,
        }
    }

    /// Follows a job until it is completed, aborted or cancelled, polling at `policy.poll`.
    /// Transport errors are retried until the printer has not answered for
    /// `policy.unreachable_grace`.
    ///
    /// # Errors
    /// The last transport error once the grace is over; [`PrinterError::NoSuchJob`] at once.
    pub async fn follow(&self, job: &RemoteJob, policy: FollowPolicy) -> Result<RemoteJobStatus, PrinterError> {
        let mut silent_since: Option<tokio::time::Instant> = None;
        loop {
            match self.job_status(job).await {
                Ok(status) if status.state.is_finished() => return Ok(status),
                Ok(_) => silent_since = None,
                Err(error) if error.is_retryable() => {
                    let since = *silent_since.get_or_insert_with(tokio::time::Instant::now);
                    if since.elapsed() >= policy.unreachable_grace {
                        return Err(error);
                    }
                    tracing::debug!(%error, "printer did not answer about the job; asking again");
                }
                Err(error) => return Err(error),
            }
            tokio::time::sleep(policy.poll).await;
        }
    }

    /// Every job the printer remembers under `job_name` (Get-Jobs, which-jobs=all).
    ///
    /// # Errors
    /// Transport errors as for [`Printer::status`].
    pub async fn find_jobs(&self, job_name: &str) -> Result<Lookup, PrinterError> {
        match self {
            Printer::Ipp(printer) => printer.find_jobs(job_name).await,
            Printer::Folder(printer) => printer.find_jobs(job_name).await,
        }
    }

    /// Cancels a job on the printer (Cancel-Job). A folder printer removes the files if
    /// nothing has picked them up yet.
    ///
    /// # Errors
    /// [`PrinterError::Refused`] when the job is past cancelling.
    pub async fn cancel(&self, job: &RemoteJob) -> Result<(), PrinterError> {
        match self {
            Printer::Ipp(printer) => printer.cancel(job).await,
            Printer::Folder(printer) => printer.cancel(job).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(reasons: &[&str]) -> PrinterStatus {
        let mut status = PrinterStatus::idle();
        for reason in reasons {
            let (keyword, error) = strip_severity(reason);
            status.reasons.push(keyword.to_owned());
            if error {
                status.error_reasons.push(keyword.to_owned());
            }
        }
        status
    }

    #[test]
    fn severity_suffixes_are_stripped() {
        assert_eq!(strip_severity("media-jam-report"), ("media-jam", false));
        assert_eq!(strip_severity("media-jam-error"), ("media-jam", true));
        assert_eq!(strip_severity("toner-low-warning"), ("toner-low", false));
        assert_eq!(strip_severity("cover-open"), ("cover-open", false));
    }

    #[test]
    fn reasons_map_to_faults_whatever_their_severity() {
        let cases = [
            ("media-jam-report", Fault::MediaJam),
            ("media-empty-error", Fault::HopperEmpty),
            ("marker-supply-empty-warning", Fault::RibbonEmpty),
            ("cover-open", Fault::CoverOpen),
            ("offline-report", Fault::Offline),
            ("spool-area-full-error", Fault::Other("spool-area-full".into())),
        ];
        for (reason, fault) in cases {
            assert_eq!(status(&[reason]).faults(&[]), vec![fault], "{reason}");
        }
        assert!(status(&["toner-low-warning", "media-low-report"]).faults(&[]).is_empty());
        assert!(status(&[]).faults(&[]).is_empty());
    }

    #[test]
    fn acknowledged_reasons_do_not_stop_the_printer() {
        let jammed = status(&["media-jam-report", "cover-open-report"]);
        assert_eq!(jammed.faults(&["media-jam".into()]), vec![Fault::CoverOpen]);
        assert!(jammed.faults(&jammed.acknowledgeable()).is_empty());
        let mut stopped = PrinterStatus::idle();
        stopped.state = DeviceState::Stopped;
        assert!(matches!(stopped.faults(&[])[..], [Fault::Stopped(_)]));
        assert!(stopped.faults(&stopped.acknowledgeable()).is_empty());
    }

    #[test]
    fn only_a_jam_or_an_unknown_cause_uses_up_the_blank() {
        assert!(Fault::MediaJam.consumes_blank());
        assert!(Fault::Other("x".into()).consumes_blank());
        assert!(!Fault::HopperEmpty.consumes_blank());
        assert!(!Fault::RibbonEmpty.consumes_blank());
        assert!(!Fault::CoverOpen.consumes_blank());
    }
}
