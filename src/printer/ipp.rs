//! IPP and IPPS printers (and CUPS queues) through the `ipp` crate.
//!
//! Requests are built with `IppRequestResponse::new` and plain attributes rather than the
//! crate's builders: it has none for Validate-Job, and its Get-Jobs builder cannot ask for
//! `which-jobs=all`, which reconciliation needs (completed jobs are what we look for).

use std::io::Cursor;
use std::time::Duration;

use ipp::prelude::{
    AsyncIppClient, DelimiterTag, IppAttribute, IppAttributeGroup, IppError, IppPayload, IppRequestResponse, IppValue,
    IppVersion, JobState, Operation, PrinterState, StatusCode, Uri,
};
use tracing::debug;

use super::{
    strip_severity, DeviceState, Lookup, PrinterError, PrinterStatus, RemoteJob, RemoteJobState, RemoteJobStatus,
    Submission,
};

/// Who we say we are. CUPS shows a job's details (its name above all) only to its owner,
/// so every request carries the same user.
const USER_NAME: &str = "cardspool";

const JOB_ATTRIBUTES: [&str; 5] = ["job-id", "job-name", "job-state", "job-state-reasons", "job-state-message"];

#[derive(Debug, Clone, Copy)]
pub struct IppOptions {
    pub request_timeout: Duration,
    pub busy_retry: Duration,
    pub busy_retries: u32,
    pub ignore_tls_errors: bool,
}

pub struct IppPrinter {
    uri: Uri,
    client: AsyncIppClient,
    options: IppOptions,
}

impl std::fmt::Debug for IppPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IppPrinter").field("uri", &self.display_uri()).finish_non_exhaustive()
    }
}

impl IppPrinter {
    /// # Errors
    /// [`PrinterError::BadUri`] unless `uri` is an `ipp://` or `ipps://` URI.
    pub fn new(uri: &str, options: IppOptions) -> Result<IppPrinter, PrinterError> {
        let bad = |reason: String| PrinterError::BadUri { uri: redact(uri), reason };
        let parsed = uri.parse::<Uri>().map_err(|e| bad(e.to_string()))?;
        if !matches!(parsed.scheme_str(), Some("ipp" | "ipps")) || parsed.host().is_none() {
            return Err(bad("expected ipp://host[:port]/path or ipps://...".into()));
        }
        // reqwest is built without a default TLS provider; installing one twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = AsyncIppClient::builder(parsed.clone())
            .request_timeout(options.request_timeout)
            .ignore_tls_errors(options.ignore_tls_errors)
            .build();
        Ok(IppPrinter { uri: parsed, client, options })
    }

    pub fn display_uri(&self) -> String {
        redact(&self.uri.to_string())
    }

    fn request(&self, operation: Operation) -> IppRequestResponse {
        // The URI was parsed and checked in `new`, and canonicalising it cannot fail then.
        let mut request = IppRequestResponse::new(IppVersion::v1_1(), operation, Some(self.uri.clone()))
            .expect("printer URI checked at construction");
        add(&mut request, "requesting-user-name", name_value(USER_NAME));
        request
    }

    async fn send(&self, request: IppRequestResponse) -> Result<IppRequestResponse, PrinterError> {
        let response = self.client.send(request).await.map_err(transport_error)?;
        let status = response.header().status_code();
        if status.is_success() {
            Ok(response)
        } else if status == StatusCode::ServerErrorBusy {
            Err(PrinterError::Busy)
        } else if status == StatusCode::ClientErrorNotFound {
            Err(PrinterError::NoSuchJob(status_message(&response).unwrap_or_default()))
        } else {
            Err(PrinterError::Refused { status: status_keyword(status), message: status_message(&response) })
        }
    }

    /// Sends a request, again while the printer answers `server-error-busy`.
    async fn send_retrying_busy(
        &self,
        build: impl Fn() -> IppRequestResponse,
    ) -> Result<IppRequestResponse, PrinterError> {
        let mut attempt = 0;
        loop {
            match self.send(build()).await {
                Err(PrinterError::Busy) if attempt < self.options.busy_retries => {
                    attempt += 1;
                    debug!(attempt, "printer busy; trying again");
                    tokio::time::sleep(self.options.busy_retry).await;
                }
                other => return other,
            }
        }
    }

    pub async fn status(&self) -> Result<PrinterStatus, PrinterError> {
        let mut request = self.request(Operation::GetPrinterAttributes);
        add(
            &mut request,
            "requested-attributes",
            keywords(&[
                "printer-state",
                "printer-state-reasons",
                "printer-state-message",
                "printer-is-accepting-jobs",
                "queued-job-count",
            ]),
        );
        let response = self.send(request).await?;
        let group = response
            .attributes()
            .groups_of(DelimiterTag::PrinterAttributes)
            .next()
            .ok_or_else(|| PrinterError::Protocol("printer attributes".into()))?;
        let state = match integer(group, "printer-state") {
            Some(state) if state == PrinterState::Stopped as i32 => DeviceState::Stopped,
            Some(state) if state == PrinterState::Processing as i32 => DeviceState::Processing,
            Some(_) => DeviceState::Idle,
            None => return Err(PrinterError::Protocol("printer-state".into())),
        };
        let mut reasons = Vec::new();
        let mut error_reasons = Vec::new();
        for raw in strings(group, "printer-state-reasons") {
            let (keyword, is_error) = strip_severity(&raw);
            if keyword == "none" || reasons.iter().any(|r| r == keyword) {
                continue;
            }
            reasons.push(keyword.to_owned());
            if is_error {
                error_reasons.push(keyword.to_owned());
            }
        }
        Ok(PrinterStatus {
            state,
            accepting_jobs: !matches!(
                group.get("printer-is-accepting-jobs").map(IppAttribute::value),
                Some(IppValue::Boolean(false))
            ),
            reasons,
            error_reasons,
            message: strings(group, "printer-state-message").into_iter().next().filter(|m| !m.is_empty()),
            queued_jobs: integer(group, "queued-job-count").map(i64::from),
        })
    }

    fn job_request(&self, operation: Operation, job_name: &str) -> IppRequestResponse {
        let mut request = self.request(operation);
        add(&mut request, "job-name", name_value(job_name));
        add(&mut request, "document-format", IppValue::MimeMediaType("application/pdf".try_into().expect("short")));
        request
    }

    pub async fn validate(&self, job_name: &str) -> Result<(), PrinterError> {
        self.send_retrying_busy(|| self.job_request(Operation::ValidateJob, job_name)).await.map(drop)
    }

    pub async fn submit(&self, submission: &Submission) -> Result<RemoteJob, PrinterError> {
        let response = self
            .send_retrying_busy(|| {
                let mut request = self.job_request(Operation::PrintJob, &submission.job_name);
                *request.payload_mut() = IppPayload::new(Cursor::new(submission.pdf.clone()));
                request
            })
            .await?;
        // The printer took the job; an answer without its id is still a taken job.
        let job_id = response.attributes().groups_of(DelimiterTag::JobAttributes).find_map(|g| integer(g, "job-id"));
        if job_id.is_none() {
            return Err(PrinterError::InDoubt("Print-Job succeeded but the answer has no job-id".into()));
        }
        Ok(RemoteJob { printer_job_id: job_id.map(i64::from), job_name: submission.job_name.clone() })
    }

    pub async fn job_status(&self, job: &RemoteJob) -> Result<RemoteJobStatus, PrinterError> {
        let Some(job_id) = job.printer_job_id.and_then(|id| i32::try_from(id).ok()) else {
            return match self.find_jobs(&job.job_name).await? {
                Lookup::Found(mut jobs) => Ok(jobs.remove(jobs.len() - 1)),
                Lookup::CannotSay => Err(PrinterError::NoSuchJob(job.job_name.clone())),
            };
        };
        let mut request = self.request(Operation::GetJobAttributes);
        add(&mut request, "job-id", IppValue::Integer(job_id));
        add(&mut request, "requested-attributes", keywords(&JOB_ATTRIBUTES));
        let response = self.send(request).await?;
        let group = response
            .attributes()
            .groups_of(DelimiterTag::JobAttributes)
            .next()
            .ok_or_else(|| PrinterError::Protocol("job attributes".into()))?;
        let status = remote_job(group)?;
        // A printer that restarted numbers its jobs from 1 again: the id alone proves nothing.
        if status.job_name != job.job_name {
            return Err(PrinterError::NoSuchJob(format!(
                "job {job_id} is now {:?}, not {:?}",
                status.job_name, job.job_name
            )));
        }
        Ok(status)
    }

    pub async fn find_jobs(&self, job_name: &str) -> Result<Lookup, PrinterError> {
        let mut request = self.request(Operation::GetJobs);
        add(&mut request, "which-jobs", IppValue::Keyword("all".try_into().expect("short")));
        add(&mut request, "requested-attributes", keywords(&JOB_ATTRIBUTES));
        let response = self.send(request).await?;
        let mut found = Vec::new();
        for group in response.attributes().groups_of(DelimiterTag::JobAttributes) {
            let job = remote_job(group)?;
            if job.job_name == job_name {
                found.push(job);
            }
        }
        found.sort_by_key(|job| job.printer_job_id);
        Ok(if found.is_empty() { Lookup::CannotSay } else { Lookup::Found(found) })
    }

    pub async fn cancel(&self, job: &RemoteJob) -> Result<(), PrinterError> {
        let job_id = match job.printer_job_id {
            Some(id) => id,
            None => match self.find_jobs(&job.job_name).await? {
                Lookup::Found(jobs) => jobs.last().and_then(|j| j.printer_job_id).unwrap_or_default(),
                Lookup::CannotSay => return Err(PrinterError::NoSuchJob(job.job_name.clone())),
            },
        };
        let mut request = self.request(Operation::CancelJob);
        add(&mut request, "job-id", IppValue::Integer(i32::try_from(job_id).unwrap_or(i32::MAX)));
        self.send(request).await.map(drop)
    }
}

fn add(request: &mut IppRequestResponse, name: &'static str, value: IppValue) {
    let name = ipp::attribute::IppAttributeName::new(name).expect("attribute names are short");
    request.attributes_mut().add(DelimiterTag::OperationAttributes, IppAttribute::new(name, value));
}

fn name_value(name: &str) -> IppValue {
    IppValue::NameWithoutLanguage(ipp::value::IppName::new_truncated(name))
}

fn keywords(names: &[&str]) -> IppValue {
    IppValue::Array(names.iter().map(|n| IppValue::Keyword((*n).try_into().expect("short keyword"))).collect())
}

fn integer(group: &IppAttributeGroup, name: &str) -> Option<i32> {
    match group.get(name)?.value() {
        IppValue::Integer(value) | IppValue::Enum(value) => Some(*value),
        _ => None,
    }
}

/// Every value of a (possibly multi-valued) text-like attribute.
fn strings(group: &IppAttributeGroup, name: &str) -> Vec<String> {
    group
        .get(name)
        .map(|attribute| attribute.value().into_iter().map(ToString::to_string).collect())
        .unwrap_or_default()
}

fn remote_job(group: &IppAttributeGroup) -> Result<RemoteJobStatus, PrinterError> {
    let state = match integer(group, "job-state").ok_or_else(|| PrinterError::Protocol("job-state".into()))? {
        s if s == JobState::Completed as i32 => RemoteJobState::Completed,
        s if s == JobState::Aborted as i32 => RemoteJobState::Aborted,
        s if s == JobState::Canceled as i32 => RemoteJobState::Cancelled,
        s if s == JobState::Processing as i32 || s == JobState::ProcessingStopped as i32 => RemoteJobState::Processing,
        _ => RemoteJobState::Pending,
    };
    Ok(RemoteJobStatus {
        printer_job_id: integer(group, "job-id").map(i64::from),
        job_name: strings(group, "job-name").into_iter().next().unwrap_or_default(),
        state,
        reasons: strings(group, "job-state-reasons")
            .iter()
            .map(|r| strip_severity(r).0.to_owned())
            .filter(|r| r != "none")
            .collect(),
        message: strings(group, "job-state-message").into_iter().next().filter(|m| !m.is_empty()),
    })
}

fn status_message(response: &IppRequestResponse) -> Option<String> {
    let group = response.attributes().groups_of(DelimiterTag::OperationAttributes).next()?;
    strings(group, "status-message").into_iter().next()
}

/// The IPP keyword for a status code, as staff and logs see it.
fn status_keyword(status: StatusCode) -> String {
    let name = format!("{status:?}");
    let mut keyword = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            keyword.push('-');
        }
        keyword.push(c.to_ascii_lowercase());
    }
    keyword
}

/// Sorts a transport error by whether the request can have reached the printer.
fn transport_error(error: IppError) -> PrinterError {
    match error {
        IppError::AsyncClientError(error) if error.is_connect() => PrinterError::Unreachable(error_chain(&error)),
        IppError::AsyncClientError(error) if error.is_builder() => PrinterError::Unreachable(error_chain(&error)),
        IppError::RequestError(status) => PrinterError::Refused { status: format!("HTTP {status}"), message: None },
        IppError::InvalidUri(error) => PrinterError::BadUri { uri: String::new(), reason: error.to_string() },
        other => PrinterError::InDoubt(match &other {
            IppError::AsyncClientError(error) => error_chain(error),
            _ => other.to_string(),
        }),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A URI without its user information (printers and CUPS may carry credentials in it).
pub(super) fn redact(uri: &str) -> String {
    match (uri.find("://"), uri.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end && !uri[scheme_end + 3..at].contains('/') => {
            format!("{}://{}", &uri[..scheme_end], &uri[at + 1..])
        }
        _ => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_kept_out_of_sight() {
        assert_eq!(redact("ipps://user:secret@cups.local:631/printers/card"), "ipps://cups.local:631/printers/card");
        assert_eq!(redact("ipp://localhost:8631/ipp/print"), "ipp://localhost:8631/ipp/print");
    }

    #[test]
    fn status_keywords_read_like_ipp() {
        assert_eq!(status_keyword(StatusCode::ServerErrorNotAcceptingJobs), "server-error-not-accepting-jobs");
        assert_eq!(
            status_keyword(StatusCode::ClientErrorDocumentFormatNotSupported),
            "client-error-document-format-not-supported"
        );
    }

    #[test]
    fn only_ipp_uris_make_an_ipp_printer() {
        let options = IppOptions {
            request_timeout: Duration::from_secs(1),
            busy_retry: Duration::from_secs(1),
            busy_retries: 0,
            ignore_tls_errors: false,
        };
        assert!(IppPrinter::new("ipp://localhost:631/ipp/print", options).is_ok());
        assert!(IppPrinter::new("ipps://printer.example/ipp/print", options).is_ok());
        assert!(matches!(IppPrinter::new("http://localhost/", options), Err(PrinterError::BadUri { .. })));
        assert!(matches!(IppPrinter::new("ipp:///nohost", options), Err(PrinterError::BadUri { .. })));
    }
}
