//! `cardspool jobs|printers|central ...`: the staff's commands, over the spooler's HTTP API (never the
//! journal directly, so the API's roles and audit trail apply to the command line too).
//!
//! Human-readable tables by default, the API's JSON with `--json`. The API's address defaults
//! to `[api] listen` of the configuration; the token comes from `--token` or `CARDSPOOL_TOKEN`.
//!
//! What is printed for people is in the language of `--lang` (Bahasa Indonesia unless asked
//! otherwise), from the catalogue's `cli-*` messages; the API is asked for the same language
//! (`Accept-Language`), so its reasons and errors read alike. Data (ids, names, masked NIKs,
//! printer names) and the codes options take stay as they are.

use std::fmt::Write as _;
use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use serde_json::{json, Value};

use crate::config::Config;
use crate::domain::job::JobState;
use crate::domain::office_time::OfficeZone;
use crate::i18n::{self, Lang};
use crate::tr;

/// Every message is in the language the command was asked to speak (`--lang`), which each
/// variant that the client builds carries: the error is printed far from where it arose.
#[derive(Debug, thiserror::Error)]
pub enum StaffCliError {
    #[error("{}", unreachable(*lang, url, source))]
    Connect { lang: Lang, url: String, source: reqwest::Error },
    /// The API answered with an error: its message is for the staff member (in their language,
    /// as the request asked).
    #[error("{}", tr!(*lang, "cli-error-api", message = message.as_str(), status = u32::from(*status)))]
    Api { lang: Lang, status: u16, code: String, message: String },
    #[error("{}", tr!(*lang, "cli-error-unexpected", list = *list))]
    Unexpected { lang: Lang, list: &'static str },
    /// Something answered at the address, but not as cardspool's API does (JSON).
    #[error("{}", tr!(*lang, "cli-error-not-cardspool", place = place.as_str(), answer = http_answer(*status, content_type.as_deref())))]
    NotCardspool { lang: Lang, place: String, status: u16, content_type: Option<String> },
    /// Already in the reader's language.
    #[error("{0}")]
    Usage(String),
}

/// `HTTP 404, text/html`: what answered, for the staff member to recognise it.
fn http_answer(status: u16, content_type: Option<&str>) -> String {
    match content_type {
        Some(content_type) => format!("HTTP {status}, {content_type}"),
        None => format!("HTTP {status}"),
    }
}

/// One sentence saying what to do; the HTTP client's chain of causes goes to the log.
fn unreachable(lang: Lang, url: &str, source: &reqwest::Error) -> String {
    let mut detail = source.to_string();
    let mut cause = std::error::Error::source(source);
    while let Some(inner) = cause {
        detail = format!("{detail}: {inner}");
        cause = inner.source();
    }
    tracing::debug!(%url, %detail, "the API could not be reached");
    let place = url.split("://").nth(1).unwrap_or(url).trim_end_matches('/');
    if source.is_connect() {
        tr!(lang, "cli-error-cannot-connect", place = place)
    } else if source.is_timeout() {
        tr!(lang, "cli-error-timed-out", place = place)
    } else if source.is_builder() {
        tr!(lang, "cli-error-cannot-set-up", place = place, problem = source.to_string())
    } else {
        tr!(lang, "cli-error-connection-failed", place = place, problem = source.to_string())
    }
}

impl StaffCliError {
    /// Whether running the same command again later may work (the spooler restarting, the
    /// journal busy), as opposed to a refusal.
    pub fn is_retryable(&self) -> bool {
        match self {
            StaffCliError::Connect { .. } => true,
            StaffCliError::Api { status, .. } => *status == 503,
            StaffCliError::Unexpected { .. } | StaffCliError::Usage(_) | StaffCliError::NotCardspool { .. } => false,
        }
    }
}

/// Where and as whom to talk to the API, and how to print.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// The spooler's API, e.g. http://127.0.0.1:8480 (default: from `[api] listen`).
    #[arg(long, global = true, value_name = "URL")]
    pub api: Option<String>,
    /// The staff member's API token.
    #[arg(long, global = true, env = "CARDSPOOL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum StaffCommand {
    /// Jobs: list, show, hold, release, cancel, retry, reprint, mark spoiled, resolve.
    Jobs {
        #[command(flatten)]
        api: ApiArgs,
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Printers: list, pause, resume, test.
    Printers {
        #[command(flatten)]
        api: ApiArgs,
        #[command(subcommand)]
        command: PrintersCommand,
    },
    /// Central's authorization service: its state as the spooler sees it, and "check now".
    Central {
        #[command(flatten)]
        api: ApiArgs,
        #[command(subcommand)]
        command: CentralCommand,
    },
    /// What waits and why, central, the printers and their blanks, refused events: the
    /// dashboard's first panel in a terminal (as CUPS's `lpstat -t`).
    Status {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Events refused at intake (in the dead-letter queue), newest first, with why.
    Rejections {
        #[command(flatten)]
        api: ApiArgs,
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// The blank-card ledger: cards per printer and day by outcome (printed, spoiled, test,
    /// not fed, cancelled, unknown, still on the printer), and the blanks used.
    Ledger {
        #[command(flatten)]
        api: ApiArgs,
        /// Only this printer.
        #[arg(long)]
        printer: Option<String>,
        /// One office day, YYYY-MM-DD (default: today in the office's zone).
        #[arg(long, conflicts_with_all = ["from", "to"])]
        day: Option<String>,
        /// The first day of a range, YYYY-MM-DD.
        #[arg(long)]
        from: Option<String>,
        /// The last day of a range, YYYY-MM-DD (default: today).
        #[arg(long)]
        to: Option<String>,
    },
    /// Reports: the daily report the supervisor signs.
    Report {
        #[command(flatten)]
        api: ApiArgs,
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// One office day: per printer the cards printed, spoiled (with reasons), test cards,
    /// blanks loaded and left; the jobs received, printed, rejected and still waiting; cards
    /// printed per hour; a line for the supervisor's signature.
    Daily {
        /// The day, YYYY-MM-DD (default: today in the office's zone).
        #[arg(long)]
        date: Option<String>,
        /// pdf or csv.
        #[arg(long, default_value = "pdf", value_parser = ["pdf", "csv"])]
        format: String,
        /// Where to write it.
        #[arg(long, short)]
        output: std::path::PathBuf,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum CentralCommand {
    /// Central's state, since when, and the cards waiting for it.
    Status,
    /// Ask central now rather than at the next scheduled probe (after fixing its complaint),
    /// wait for its answer, and show central's state after it.
    Check {
        /// How long to wait for central's answer, in seconds.
        #[arg(long, default_value_t = 15)]
        wait: u64,
    },
}

/// The job states, for `--state`'s help and the error for a wrong one.
fn job_states() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(JobState::ALL.iter().map(|state| state.as_str()))
}

#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List {
        /// Only jobs in these states, comma-separated (e.g. failed,unknown,held).
        #[arg(long, value_delimiter = ',', value_name = "STATES", value_parser = job_states())]
        state: Vec<String>,
        /// Only jobs of this enrolling office (its 4-digit regency code, e.g. 1502).
        #[arg(long)]
        office: Option<String>,
        /// Search: a full NIK, a masked NIK, a job or event id, or part of a name.
        #[arg(long)]
        q: Option<String>,
        /// Jobs per page.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Go on from where the previous page ended.
        #[arg(long)]
        cursor: Option<String>,
        /// Oldest first.
        #[arg(long)]
        oldest: bool,
    },
    /// A job with its history (the audit trail) and its cards. Several jobs found: they are
    /// listed to choose from.
    Show {
        /// The job's id or its first characters, an event id, a full NIK or part of a name.
        #[arg(value_name = "JOB")]
        id: String,
    },
    /// Where a citizen's card stands and when it is expected ("position 37 of 112 for pool
    /// ektp; expected about 14:20 today"), found by full NIK, job id or name.
    Where {
        /// A full NIK, a job id, or part of a name.
        query: String,
    },
    /// Stop a job before it prints.
    Hold(ActionArgs),
    /// Send a held job back to where it was held from.
    Release(ActionArgs),
    /// Cancel a job that has not printed (or one in doubt).
    Cancel(ActionArgs),
    /// Ask central again for a failed or rejected job.
    Retry(ActionArgs),
    /// Print a printed (or spoiled) card again. Supervisor; needs a reason.
    Reprint(ReasonArgs),
    /// Mark a printed card unusable (its blank counts spoiled). Needs a reason.
    Spoiled(ReasonArgs),
    /// Decide what became of a job in doubt (unknown), after looking at the printer.
    /// Supervisor; needs a reason.
    Resolve {
        /// The job's id, or its first characters (enough that no other job's id starts so).
        id: String,
        /// What staff found, for the audit trail.
        #[arg(long)]
        reason: String,
        /// What came out of the printer.
        #[arg(long, value_enum)]
        outcome: Outcome,
    },
}

#[derive(Debug, clap::Args)]
pub struct ActionArgs {
    /// The job's id, or its first characters (enough that no other job's id starts so).
    pub id: String,
    /// Why, for the audit trail.
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ReasonArgs {
    /// The job's id, or its first characters (enough that no other job's id starts so).
    pub id: String,
    /// Why, for the audit trail (required).
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Outcome {
    /// The card came out fine.
    Printed,
    /// No card came out: print it again.
    #[value(name = "not_printed", alias = "not-printed")]
    NotPrinted,
    /// A card came out unusable.
    Spoiled,
}

#[derive(Debug, clap::Subcommand)]
pub enum PrintersCommand {
    /// Every printer: its pool, jobs on it, blanks, device and status.
    List,
    /// Stop a printer taking jobs (the job on it finishes).
    Pause {
        /// The printer's name (`printers list`).
        name: String,
        /// Why (shown to the other staff: "ribbon being changed").
        #[arg(long)]
        reason: Option<String>,
    },
    /// Let a printer take jobs again, over the faults it reports now.
    Resume {
        /// The printer's name (`printers list`).
        name: String,
    },
    /// Print a test card (a made-up holder on the printer's layout); it uses a blank, counted
    /// as `test` in the blank-card ledger.
    Test {
        /// The printer's name (`printers list`).
        name: String,
        /// Why, for the audit trail and the ledger ("new ribbon").
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record blank cards put into a printer: its stock goes up by CARDS, and down by one for
    /// every card it takes. At or below `printing.reserve_stock` it prints urgent cards only.
    Load {
        /// The printer's name (`printers list`).
        name: String,
        /// How many blanks were put in.
        cards: u32,
    },
}

/// The API client the commands use.
pub struct StaffClient {
    base: String,
    token: Option<String>,
    /// Asked of the API for its texts for people (reasons, errors), and spoken by the command.
    lang: Lang,
    http: reqwest::Client,
}

/// The API's address from `[api] listen` (`https` when `tls`): a wildcard address is reached on
/// loopback.
pub fn default_api_url(listen: SocketAddr, tls: bool) -> String {
    let ip = match listen.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{}", SocketAddr::new(ip, listen.port()))
}

impl StaffClient {
    /// A client of the API at `base` whose answers are in `lang`; `trusted_cert`: a certificate
    /// (PEM) to trust besides the system's, such as the spooler's own self-signed
    /// `[api] tls_cert_file`.
    ///
    /// # Errors
    /// [`StaffCliError::Usage`] for a URL that is not http(s) or a certificate that cannot be read.
    pub fn new(
        base: &str,
        token: Option<String>,
        trusted_cert: Option<&std::path::Path>,
        lang: Lang,
    ) -> Result<StaffClient, StaffCliError> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(StaffCliError::Usage(tr!(lang, "cli-error-api-scheme", url = format!("{base:?}"))));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
        if let Some(path) = trusted_cert {
            let unusable = |problem: String| {
                StaffCliError::Usage(tr!(
                    lang,
                    "cli-error-certificate",
                    path = path.display().to_string(),
                    problem = problem
                ))
            };
            let pem = std::fs::read(path).map_err(|error| unusable(error.to_string()))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| unusable(error.to_string()))? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|source| StaffCliError::Connect { lang, url: base.to_owned(), source })?;
        Ok(StaffClient { base: base.trim_end_matches('/').to_owned(), token, lang, http })
    }

    /// The language the client asks the API for and speaks.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The request with the staff member's token and language.
    fn signed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = request.header(reqwest::header::ACCEPT_LANGUAGE, self.lang.code());
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    fn connect_error(&self, source: reqwest::Error) -> StaffCliError {
        StaffCliError::Connect { lang: self.lang, url: self.base.clone(), source }
    }

    fn usage_url_error(&self, problem: &impl std::fmt::Display) -> StaffCliError {
        StaffCliError::Usage(tr!(
            self.lang,
            "cli-error-api-url",
            url = format!("{:?}", self.base),
            problem = problem.to_string()
        ))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, StaffCliError> {
        let connect = |source| self.connect_error(source);
        let response = self.signed(request).send().await.map_err(connect)?;
        let status = response.status();
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|t| t.to_str().ok()).map(str::to_owned);
        let text = response.text().await.map_err(connect)?;
        // Every answer of cardspool's API, an error too, is a JSON object.
        let Ok(body @ Value::Object(_)) = serde_json::from_str::<Value>(&text) else {
            tracing::debug!(status = status.as_u16(), body = %shorten(&text, 200), "not an answer of cardspool's API");
            return Err(self.not_cardspool(status, content_type));
        };
        if status.is_success() {
            return Ok(body);
        }
        let Some(error) = body["error"].as_str() else { return Err(self.not_cardspool(status, content_type)) };
        let message = if status == reqwest::StatusCode::UNAUTHORIZED
            && self.token.is_none()
            && body["code"] != "no_tokens_configured"
        {
            tr!(self.lang, "cli-error-give-token", error = error)
        } else {
            error.to_owned()
        };
        Err(StaffCliError::Api {
            lang: self.lang,
            status: status.as_u16(),
            code: body["code"].as_str().unwrap_or_default().to_owned(),
            message,
        })
    }

    fn not_cardspool(&self, status: reqwest::StatusCode, content_type: Option<String>) -> StaffCliError {
        let place = self.base.split("://").nth(1).unwrap_or(&self.base).to_owned();
        StaffCliError::NotCardspool { lang: self.lang, place, status: status.as_u16(), content_type }
    }

    /// `GET /api/v1{path}` with query parameters, for a file (a report): its bytes.
    ///
    /// # Errors
    /// [`StaffCliError::Connect`] or the API's refusal.
    pub async fn get_file(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<u8>, StaffCliError> {
        let url = reqwest::Url::parse_with_params(&format!("{}/api/v1{path}", self.base), query)
            .map_err(|e| self.usage_url_error(&e))?;
        let connect = |source| self.connect_error(source);
        let response = self.signed(self.http.get(url)).send().await.map_err(connect)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(connect)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let Some(message) = body["error"].as_str() else { return Err(self.not_cardspool(status, None)) };
        Err(StaffCliError::Api {
            lang: self.lang,
            status: status.as_u16(),
            code: body["code"].as_str().unwrap_or_default().to_owned(),
            message: message.to_owned(),
        })
    }

    /// `GET /api/v1{path}` with query parameters.
    ///
    /// # Errors
    /// [`StaffCliError::Connect`] or the API's refusal.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, StaffCliError> {
        let url = reqwest::Url::parse_with_params(&format!("{}/api/v1{path}", self.base), query)
            .map_err(|e| self.usage_url_error(&e))?;
        self.send(self.http.get(url)).await
    }

    /// `POST /api/v1{path}` with a JSON body.
    ///
    /// # Errors
    /// [`StaffCliError::Connect`] or the API's refusal.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, StaffCliError> {
        self.send(self.http.post(format!("{}/api/v1{path}", self.base)).json(body)).await
    }
}

/// Runs a staff command and returns what to print, in `lang`.
///
/// # Errors
/// When the API cannot be reached or refuses (the message says why, in `lang`).
pub async fn run(config: &Config, command: StaffCommand, lang: Lang) -> Result<String, StaffCliError> {
    // Set once per process, before anything is formatted.
    let _ = OFFICE_ZONE.set(config.office.zone);
    match command {
        StaffCommand::Jobs { api, command } => {
            let client = client(config, &api, lang)?;
            jobs(&client, command, api.json).await
        }
        StaffCommand::Printers { api, command } => {
            let client = client(config, &api, lang)?;
            printers(&client, command, api.json).await
        }
        StaffCommand::Status { api } => {
            let client = client(config, &api, lang)?;
            let summary = client.get("/summary", &[]).await?;
            Ok(if api.json { pretty(&summary) } else { status_text(lang, &summary) })
        }
        StaffCommand::Rejections { api, limit } => {
            let client = client(config, &api, lang)?;
            let answer = client.get("/rejections", &[("limit", limit.to_string())]).await?;
            if api.json {
                return Ok(pretty(&answer));
            }
            rejections_table(lang, &answer)
        }
        StaffCommand::Ledger { api, printer, day, from, to } => {
            let client = client(config, &api, lang)?;
            let (from, to) = match day {
                Some(day) => (Some(day.clone()), Some(day)),
                None => (from, to),
            };
            let query: Vec<(&str, String)> = [("printer", printer), ("from", from), ("to", to)]
                .into_iter()
                .filter_map(|(key, value)| value.map(|v| (key, v)))
                .collect();
            let ledger = client.get("/ledger", &query).await?;
            Ok(if api.json { pretty(&ledger) } else { ledger_table(lang, &ledger)? })
        }
        StaffCommand::Report { api, command: ReportCommand::Daily { date, format, output } } => {
            let client = client(config, &api, lang)?;
            let mut query = vec![("format", format.clone())];
            query.extend(date.map(|date| ("date", date)));
            let file = client.get_file("/reports/daily", &query).await?;
            let path = output.display().to_string();
            std::fs::write(&output, &file).map_err(|error| {
                StaffCliError::Usage(tr!(
                    lang,
                    "cli-error-cannot-write",
                    path = path.as_str(),
                    problem = error.to_string()
                ))
            })?;
            Ok(format!("{}\n", tr!(lang, "cli-report-written", format = format, bytes = file.len(), path = path)))
        }
        StaffCommand::Central { api, command } => {
            let client = client(config, &api, lang)?;
            match command {
                CentralCommand::Status => {
                    let answer = client.get("/central", &[]).await?;
                    Ok(if api.json { pretty(&answer) } else { central_status(lang, &answer) })
                }
                CentralCommand::Check { wait } => central_check(&client, wait, api.json).await,
            }
        }
    }
}

/// `central check`: asks, waits for the answer, shows central's state after it.
async fn central_check(client: &StaffClient, wait: u64, as_json: bool) -> Result<String, StaffCliError> {
    let lang = client.lang();
    let asked = client.post("/central/check", &json!({})).await?;
    let (after, answered) = central_after_check(client, &asked, std::time::Duration::from_secs(wait)).await?;
    if as_json {
        return Ok(pretty(&json!({ "note": asked["note"], "answered": answered, "central": after })));
    }
    // The API's note says the same in English; the command says it in the reader's language.
    let mut out = if asked["asked"] == Value::Bool(false) {
        format!("{}\n", tr!(lang, "cli-central-flowing"))
    } else {
        format!("{}\n", tr!(lang, "cli-central-asked"))
    };
    if !answered {
        let _ = writeln!(out, "{}", tr!(lang, "cli-central-no-answer", wait = wait));
    }
    out.push_str(&central_status(lang, &after));
    Ok(out)
}

/// Central's state once the check staff asked for has an answer (a success or an error newer
/// than the ones before it), or after `wait`; and whether the answer came. A check that was not
/// needed (requests flowing already) is its own answer.
async fn central_after_check(
    client: &StaffClient,
    asked: &Value,
    wait: std::time::Duration,
) -> Result<(Value, bool), StaffCliError> {
    let before = &asked["central"];
    if asked["asked"] == Value::Bool(false) {
        return Ok((before.clone(), true));
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut after = before.clone();
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        after = client.get("/central", &[]).await?;
        if after["last_success_at"] != before["last_success_at"] || after["last_error_at"] != before["last_error_at"] {
            return Ok((after, true));
        }
    }
    Ok((after, false))
}

fn client(config: &Config, api: &ApiArgs, lang: Lang) -> Result<StaffClient, StaffCliError> {
    let tls = config.api.tls_cert_file.as_deref();
    let base = api.api.clone().unwrap_or_else(|| default_api_url(config.api.listen, tls.is_some()));
    StaffClient::new(&base, api.token.clone().filter(|t| !t.is_empty()), tls, lang)
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

async fn jobs(client: &StaffClient, command: JobsCommand, as_json: bool) -> Result<String, StaffCliError> {
    let lang = client.lang();
    let (id, action, body) = match command {
        JobsCommand::List { state, office, q, limit, cursor, oldest } => {
            let mut query = vec![("limit", limit.to_string())];
            let state = (!state.is_empty()).then(|| state.join(","));
            let optional = [("state", state), ("office", office), ("q", q), ("cursor", cursor)];
            query.extend(optional.into_iter().filter_map(|(key, value)| value.map(|v| (key, v))));
            if oldest {
                query.push(("order", "oldest".to_owned()));
            }
            let page = client.get("/jobs", &query).await?;
            return Ok(if as_json { pretty(&page) } else { job_table(lang, &page)? });
        }
        JobsCommand::Show { id } => {
            let id = find_job(client, &id, Finding::AnyMatch).await?;
            let detail = client.get(&format!("/jobs/{}", path_segment(&id)), &[]).await?;
            return Ok(if as_json { pretty(&detail) } else { job_detail(lang, &detail)? });
        }
        JobsCommand::Where { query } => return where_is(client, &query, as_json).await,
        JobsCommand::Hold(args) => (args.id, "hold", json!({ "reason": args.reason })),
        JobsCommand::Release(args) => (args.id, "release", json!({ "reason": args.reason })),
        JobsCommand::Cancel(args) => (args.id, "cancel", json!({ "reason": args.reason })),
        JobsCommand::Retry(args) => (args.id, "retry", json!({ "reason": args.reason })),
        JobsCommand::Reprint(args) => (args.id, "reprint", json!({ "reason": args.reason })),
        JobsCommand::Spoiled(args) => (args.id, "spoiled", json!({ "reason": args.reason })),
        JobsCommand::Resolve { id, reason, outcome } => {
            let outcome = match outcome {
                Outcome::Printed => "printed",
                Outcome::NotPrinted => "not_printed",
                Outcome::Spoiled => "spoiled",
            };
            (id, "resolve", json!({ "reason": reason, "outcome": outcome }))
        }
    };
    let id = find_job(client, &id, Finding::IdOnly).await?;
    let answer = client.post(&format!("/jobs/{}/{action}", path_segment(&id)), &body).await?;
    Ok(if as_json { pretty(&answer) } else { action_done(lang, &answer) })
}

/// What an action on a job did: the job's state now and why, and what the blank-card ledger
/// recorded; or that the job was so already (the API's note), nothing done.
fn action_done(lang: Lang, answer: &Value) -> String {
    let job = &answer["job"];
    let (id, state) = (text(&job["id"]), state_name(lang, &job["state"]));
    if answer["note"].is_string() {
        // The API notes only an intent met already: the job is in the state asked for.
        return format!("{}\n", tr!(lang, "cli-job-already", job = id, state = state));
    }
    let mut out = format!("{}\n", tr!(lang, "cli-job-now", job = id, state = state, reason = text(&job["reason"])));
    if let Some(ledger) = answer["ledger"].as_str() {
        let _ = writeln!(out, "{ledger}");
    }
    out
}

async fn printers(client: &StaffClient, command: PrintersCommand, as_json: bool) -> Result<String, StaffCliError> {
    let lang = client.lang();
    let answer = match &command {
        PrintersCommand::List => client.get("/printers", &[]).await?,
        PrintersCommand::Pause { name, reason } => {
            let body = reason.as_ref().map_or_else(|| json!({}), |reason| json!({ "reason": reason }));
            client.post(&format!("/printers/{}/pause", path_segment(name)), &body).await?
        }
        PrintersCommand::Resume { name } => {
            client.post(&format!("/printers/{}/resume", path_segment(name)), &json!({})).await?
        }
        PrintersCommand::Test { name, reason } => {
            let body = reason.as_ref().map_or_else(|| json!({}), |reason| json!({ "reason": reason }));
            client.post(&format!("/printers/{}/test", path_segment(name)), &body).await?
        }
        PrintersCommand::Load { name, cards } => {
            client.post(&format!("/printers/{}/load", path_segment(name)), &json!({ "cards": cards })).await?
        }
    };
    if as_json {
        return Ok(pretty(&answer));
    }
    let printer = &answer["printer"];
    Ok(match command {
        PrintersCommand::List => return printer_table(lang, &answer),
        PrintersCommand::Test { .. } => format!(
            "{}\n",
            tr!(lang, "cli-printer-test-sent", printer = text(printer), card = text(&answer["test_card"]))
        ),
        PrintersCommand::Load { cards, .. } => format!(
            "{}\n",
            tr!(
                lang,
                "cli-printer-loaded",
                printer = text(&printer["name"]),
                cards = cards,
                blanks = blanks(lang, printer)
            )
        ),
        PrintersCommand::Pause { .. } | PrintersCommand::Resume { .. } => {
            format!("{}: {}\n", text(&printer["name"]), printer_status(lang, printer))
        }
    })
}

/// A printer's blanks as staff read them: `120 blanks`, `40 blanks (low)`, `8 blanks (reserve:
/// urgent cards only)`, or `-` while not counted.
fn blanks(lang: Lang, printer: &Value) -> String {
    let Some(count) = printer["blanks"].as_i64() else { return "-".to_owned() };
    match printer["stock"].as_str() {
        Some("low") => tr!(lang, "cli-blanks-low", count = count),
        Some("reserve") => tr!(lang, "cli-blanks-reserve", count = count),
        _ => tr!(lang, "cli-blanks", count = count),
    }
}

/// Label and value lines, the values in one column: at least 14 characters in, further when a
/// label is longer (Indonesian's are).
fn fields(lines: &[(String, String)]) -> String {
    let width = lines.iter().map(|(label, _)| label.chars().count() + 2).max().unwrap_or(0).max(14);
    let mut out = String::new();
    for (label, value) in lines {
        let pad = width - label.chars().count();
        let _ = writeln!(out, "{label}{}{value}", " ".repeat(pad));
    }
    out
}

/// `cardspool status`: the summary as aligned lines.
fn status_text(lang: Lang, summary: &Value) -> String {
    let mut lines: Vec<(String, String)> = Vec::new();
    let central = &summary["central"];
    if central.is_object() {
        lines.push((tr!(lang, "cli-label-central"), text(&central["summary"])));
    } else {
        let why = summary["central_off"].as_str().map_or_else(|| tr!(lang, "cli-central-not-here"), str::to_owned);
        lines.push((tr!(lang, "cli-label-central"), tr!(lang, "cli-status-central-off", why = why)));
    }
    for key in ["authorization", "printing", "staff"] {
        let group = &summary["waiting"][key];
        let count = group["count"].as_i64().unwrap_or(0);
        let mut line = match key {
            "authorization" => tr!(lang, "cli-status-waiting-central", count = count),
            "printing" => tr!(lang, "cli-status-waiting-printer", count = count),
            _ => tr!(lang, "cli-status-waiting-staff", count = count),
        };
        if count > 0 && group["oldest_received_at"].is_string() {
            line = tr!(lang, "cli-status-oldest", waiting = line, since = local_time(&group["oldest_received_at"]));
        }
        let label = if key == "authorization" { tr!(lang, "cli-label-queue") } else { String::new() };
        lines.push((label, line));
    }
    match summary["printers"].as_array() {
        None => lines.push((tr!(lang, "cli-label-printers"), tr!(lang, "cli-status-no-printing"))),
        Some(printers) if printers.is_empty() => {
            lines.push((tr!(lang, "cli-label-printers"), tr!(lang, "cli-status-no-printers")));
        }
        Some(printers) => {
            for (n, printer) in printers.iter().enumerate() {
                let line =
                    format!("{}  {}  {}", text(&printer["name"]), printer_status(lang, printer), blanks(lang, printer));
                let label = if n == 0 { tr!(lang, "cli-label-printers") } else { String::new() };
                lines.push((label, line));
            }
        }
    }
    let status_events = &summary["status_events"];
    if let Some(held) = status_events["held_back"].as_object() {
        let line = tr!(
            lang,
            "cli-status-upstream-held",
            since = local_time(&held["since"]),
            reason = text(&held["reason"]),
            count = status_events["unpublished"].as_i64().unwrap_or(0)
        );
        lines.push((tr!(lang, "cli-label-upstream"), line));
    }
    let rejections = &summary["rejections"];
    let refused = tr!(
        lang,
        "cli-status-refused",
        events = rejections["distinct"].as_i64().unwrap_or(0),
        deliveries = rejections["deliveries"].as_i64().unwrap_or(0)
    );
    lines.push((tr!(lang, "cli-label-refused"), refused));
    fields(&lines)
}

/// `cardspool rejections`: how many, and one line each.
fn rejections_table(lang: Lang, answer: &Value) -> Result<String, StaffCliError> {
    let rows: Vec<Vec<String>> = array(lang, &answer["rejections"], "rejections")?
        .iter()
        .map(|r| {
            let event = r["event_id"].as_str().map_or_else(|| tr!(lang, "cli-no-event-id"), str::to_owned);
            vec![local_time(&r["last_at"]), event, text(&r["times"]), shorten(&text(&r["reason"]), 100)]
        })
        .collect();
    let mut out = format!(
        "{}\n",
        tr!(
            lang,
            "cli-rejections-count",
            events = answer["distinct"].as_i64().unwrap_or(0),
            deliveries = answer["deliveries"].as_i64().unwrap_or(0)
        )
    );
    if !rows.is_empty() {
        let headers = [
            tr!(lang, "cli-col-last-seen"),
            tr!(lang, "cli-col-event"),
            tr!(lang, "cli-col-times"),
            tr!(lang, "cli-col-why"),
        ];
        out.push_str(&table(&headers, &rows));
    }
    Ok(out)
}

/// How far [`find_job`] may go from an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    /// A job id or the first characters of one: what an action on a card takes.
    IdOnly,
    /// Also an event id, a full NIK or part of a name that finds one job (`jobs show`).
    AnyMatch,
}

/// The job `given` names: a full job id, the first characters of one that no other job's id
/// starts with (as git finds a commit), or with [`Finding::AnyMatch`] anything the search finds
/// one job by. When several jobs match, the error lists them to choose from.
async fn find_job(client: &StaffClient, given: &str, finding: Finding) -> Result<String, StaffCliError> {
    const SHOWN: usize = 10;
    let lang = client.lang();
    let given = given.trim();
    // A whole id is taken as it is by an action; `show` also finds an event id of that shape.
    if finding == Finding::IdOnly && uuid::Uuid::parse_str(given).is_ok() {
        return Ok(given.to_ascii_lowercase());
    }
    let page = client.get("/jobs", &[("q", given.to_owned()), ("limit", (SHOWN + 1).to_string())]).await?;
    let found = array(lang, &page["jobs"], "jobs")?;
    let prefix = given.to_ascii_lowercase();
    let by_id: Vec<&Value> = found.iter().filter(|job| text(&job["id"]).starts_with(&prefix)).collect();
    let candidates: Vec<&Value> = match finding {
        Finding::AnyMatch if by_id.is_empty() => found.iter().collect(),
        Finding::IdOnly | Finding::AnyMatch => by_id,
    };
    let quoted = format!("{given:?}");
    match candidates.as_slice() {
        [one] => Ok(text(&one["id"])),
        [] if finding == Finding::IdOnly && !found.is_empty() => Err(StaffCliError::Usage(format!(
            "{}\n{}",
            tr!(lang, "cli-no-id-starts-with", given = quoted),
            matches_table(lang, &found.iter().collect::<Vec<_>>(), SHOWN)
        ))),
        [] if finding == Finding::IdOnly => Err(StaffCliError::Usage(tr!(lang, "cli-no-job-by-id", given = quoted))),
        [] => Err(StaffCliError::Usage(tr!(lang, "cli-no-job-matches", given = quoted))),
        many => {
            let all_by_id = many.iter().all(|job| text(&job["id"]).starts_with(&prefix));
            let count = many.len().min(SHOWN);
            let said = match (all_by_id, many.len() > SHOWN) {
                (true, false) => tr!(lang, "cli-jobs-match-give-more", count = count, given = quoted),
                (true, true) => tr!(lang, "cli-jobs-match-or-more-give-more", count = count, given = quoted),
                (false, false) => tr!(lang, "cli-jobs-match-give-one", count = count, given = quoted),
                (false, true) => tr!(lang, "cli-jobs-match-or-more-give-one", count = count, given = quoted),
            };
            Err(StaffCliError::Usage(format!("{said}\n{}", matches_table(lang, many, SHOWN))))
        }
    }
}

/// The jobs to choose from, as `jobs list` shows them (at most `shown`).
fn matches_table(lang: Lang, jobs: &[&Value], shown: usize) -> String {
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .take(shown)
        .map(|job| {
            vec![
                text(&job["id"]),
                state_name(lang, &job["state"]),
                text(&job["nik"]),
                shorten(&text(&job["name"]), 24),
                local_time(&job["created_at"]),
            ]
        })
        .collect();
    let headers = [
        tr!(lang, "cli-col-id"),
        tr!(lang, "cli-col-state"),
        tr!(lang, "cli-col-nik"),
        tr!(lang, "cli-col-name"),
        tr!(lang, "cli-col-received"),
    ];
    table(&headers, &rows).trim_end().to_owned()
}

/// `jobs where`: the estimate of every job the query finds (at most ten).
async fn where_is(client: &StaffClient, query: &str, as_json: bool) -> Result<String, StaffCliError> {
    let lang = client.lang();
    let page = client.get("/jobs", &[("q", query.to_owned()), ("limit", "10".to_owned())]).await?;
    let jobs = array(lang, &page["jobs"], "jobs")?;
    if jobs.is_empty() {
        return Err(StaffCliError::Usage(tr!(lang, "cli-where-none", query = format!("{query:?}"))));
    }
    let mut estimates = Vec::new();
    let mut out = String::new();
    for job in jobs {
        let id = text(&job["id"]);
        let estimate = client.get(&format!("/jobs/{}/estimate", path_segment(&id)), &[]).await?;
        let _ = writeln!(out, "{id}  {}  {}\n  {}", text(&job["name"]), text(&job["nik"]), text(&estimate["text"]));
        estimates.push(estimate);
    }
    Ok(if as_json { pretty(&json!({ "estimates": estimates })) } else { out })
}

/// Keeps ids and names from changing the URL's path (a `/` or `?` in a name).
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A job state of the API (its stable code) by its name for staff; a code this build does not
/// know (a newer spooler's) as it is.
fn state_name(lang: Lang, code: &Value) -> String {
    let code = text(code);
    code.parse::<JobState>().map_or(code, |state| i18n::state_name(lang, state))
}

/// The office's zone (`[office] zone`), which every time the commands print is written in.
static OFFICE_ZONE: std::sync::OnceLock<OfficeZone> = std::sync::OnceLock::new();

/// An API time in the office's zone, to the minute, as the print room writes it:
/// `01-12-2026 22:36 WIB`.
fn local_time(value: &Value) -> String {
    let zone = OFFICE_ZONE.get().copied().unwrap_or_default();
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| zone.format(t.with_timezone(&Utc)))
        .unwrap_or_default()
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

/// Left-aligned columns, two spaces apart, the last one unpadded.
fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(headers.iter().map(String::as_str).collect());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// The list `list` of an answer.
fn array<'a>(lang: Lang, value: &'a Value, list: &'static str) -> Result<&'a Vec<Value>, StaffCliError> {
    value.as_array().ok_or(StaffCliError::Unexpected { lang, list })
}

fn job_table(lang: Lang, page: &Value) -> Result<String, StaffCliError> {
    let jobs = array(lang, &page["jobs"], "jobs")?;
    if jobs.is_empty() {
        return Ok(format!("{}\n", tr!(lang, "cli-no-jobs")));
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|job| {
            vec![
                text(&job["id"]),
                state_name(lang, &job["state"]),
                text(&job["office"]),
                text(&job["nik"]),
                shorten(&text(&job["name"]), 24),
                text(&job["printer"]),
                local_time(&job["updated_at"]),
                shorten(&text(&job["reason"]), 60),
            ]
        })
        .collect();
    let headers = [
        tr!(lang, "cli-col-id"),
        tr!(lang, "cli-col-state"),
        tr!(lang, "cli-col-office"),
        tr!(lang, "cli-col-nik"),
        tr!(lang, "cli-col-name"),
        tr!(lang, "cli-col-printer"),
        tr!(lang, "cli-col-updated"),
        tr!(lang, "cli-col-reason"),
    ];
    let mut out = table(&headers, &rows);
    if let Some(next) = page["next_cursor"].as_str() {
        let _ = writeln!(out, "{}", tr!(lang, "cli-more-jobs", cursor = next));
    }
    Ok(out)
}

fn job_detail(lang: Lang, detail: &Value) -> Result<String, StaffCliError> {
    let job = &detail["job"];
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut field = |label: String, value: String| {
        if !value.is_empty() {
            lines.push((label, value));
        }
    };
    let urgent = job["urgent"] == Value::Bool(true);
    let held_from = if job["held_from"].is_string() { state_name(lang, &job["held_from"]) } else { String::new() };
    field(tr!(lang, "cli-label-job"), text(&job["id"]));
    field(tr!(lang, "cli-label-event"), text(&job["event_id"]));
    field(tr!(lang, "cli-label-state"), state_name(lang, &job["state"]));
    field(tr!(lang, "cli-label-reason"), text(&job["reason"]));
    field(tr!(lang, "cli-label-held-from"), held_from);
    field(tr!(lang, "cli-label-name"), text(&job["name"]));
    field(tr!(lang, "cli-label-nik"), text(&job["nik"]));
    field(tr!(lang, "cli-label-office"), text(&job["office"]));
    field(tr!(lang, "cli-label-template"), text(&job["template"]));
    field(
        tr!(lang, "cli-label-priority"),
        if urgent { tr!(lang, "cli-priority-urgent") } else { tr!(lang, "cli-priority-normal") },
    );
    field(tr!(lang, "cli-label-attempts"), text(&job["attempts"]));
    field(tr!(lang, "cli-label-next-attempt"), local_time(&job["next_attempt_at"]));
    field(tr!(lang, "cli-label-authorized"), text(&job["authorization"]["authorization_id"]));
    field(tr!(lang, "cli-label-expires"), text(&job["authorization"]["expires_at"]));
    field(tr!(lang, "cli-label-printer"), text(&job["printer"]));
    field(tr!(lang, "cli-label-received"), local_time(&job["created_at"]));
    for warning in job["warnings"].as_array().into_iter().flatten() {
        field(tr!(lang, "cli-label-warning"), text(warning));
    }
    // The actions are named as the commands that take them (`jobs release`).
    let actions: Vec<String> = array(lang, &detail["actions"], "actions")?.iter().map(text).collect();
    field(tr!(lang, "cli-label-actions"), actions.join(", "));
    let mut out = fields(&lines);
    let _ = writeln!(out, "\n{}", tr!(lang, "cli-section-history"));
    out.push_str(&history_table(lang, array(lang, &detail["history"], "history")?));
    let cards = array(lang, &detail["cards"], "cards")?;
    if !cards.is_empty() {
        let _ = writeln!(out, "\n{}", tr!(lang, "cli-section-cards"));
        out.push_str(&cards_table(lang, cards));
    }
    Ok(out)
}

/// A job's steps: when, from which state to which, by whom, why.
fn history_table(lang: Lang, history: &[Value]) -> String {
    let rows: Vec<Vec<String>> = history
        .iter()
        .map(|entry| {
            let by = match entry["actor"]["name"].as_str() {
                Some(name) => name.to_owned(),
                None if entry["actor"]["kind"] == "system" => tr!(lang, "cli-actor-system"),
                None => text(&entry["actor"]["kind"]),
            };
            let to = state_name(lang, &entry["to"]);
            let step =
                if entry["from"].is_string() { format!("{} → {to}", state_name(lang, &entry["from"])) } else { to };
            vec![local_time(&entry["at"]), step, by, text(&entry["reason"])]
        })
        .collect();
    let headers =
        [tr!(lang, "cli-col-at"), tr!(lang, "cli-col-step"), tr!(lang, "cli-col-by"), tr!(lang, "cli-col-reason")];
    table(&headers, &rows)
}

/// A job's cards sent to printers, with what became of each blank.
fn cards_table(lang: Lang, cards: &[Value]) -> String {
    let rows: Vec<Vec<String>> = cards
        .iter()
        .map(|card| {
            vec![
                local_time(&card["sent_at"]),
                text(&card["printer"]),
                card_outcome(lang, &card["outcome"]),
                text(&card["reason"]),
            ]
        })
        .collect();
    let headers = [
        tr!(lang, "cli-col-sent"),
        tr!(lang, "cli-col-printer"),
        tr!(lang, "cli-col-outcome"),
        tr!(lang, "cli-col-reason"),
    ];
    table(&headers, &rows)
}

/// What became of a card's blank (the ledger's outcome code) in words.
fn card_outcome(lang: Lang, code: &Value) -> String {
    match code.as_str().unwrap_or_default() {
        "sent" => tr!(lang, "cli-outcome-sent"),
        "printed" => tr!(lang, "cli-outcome-printed"),
        "spoiled" => tr!(lang, "cli-outcome-spoiled"),
        "not_fed" => tr!(lang, "cli-outcome-not_fed"),
        "cancelled" => tr!(lang, "cli-outcome-cancelled"),
        "unknown" => tr!(lang, "cli-outcome-unknown"),
        "test" => tr!(lang, "cli-outcome-test"),
        _ => text(code),
    }
}

/// Central's state (`up`, `down`, …) in words.
fn central_state(lang: Lang, code: &Value) -> String {
    match code.as_str().unwrap_or_default() {
        "unknown" => tr!(lang, "cli-central-state-unknown"),
        "up" => tr!(lang, "cli-central-state-up"),
        "degraded" => tr!(lang, "cli-central-state-degraded"),
        "down" => tr!(lang, "cli-central-state-down"),
        "credentials_refused" => tr!(lang, "cli-central-state-credentials_refused"),
        _ => text(code),
    }
}

/// The circuit breaker's phase in words.
fn breaker_phase(lang: Lang, code: &Value) -> String {
    match code.as_str().unwrap_or_default() {
        "closed" => tr!(lang, "cli-breaker-closed"),
        "open" => tr!(lang, "cli-breaker-open"),
        "credentials_refused" => tr!(lang, "cli-breaker-credentials_refused"),
        _ => text(code),
    }
}

fn central_status(lang: Lang, central: &Value) -> String {
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut field = |label: String, value: String| {
        if !value.is_empty() {
            lines.push((label, value));
        }
    };
    let state =
        tr!(lang, "cli-since", what = central_state(lang, &central["state"]), since = local_time(&central["since"]));
    field(tr!(lang, "cli-label-central"), text(&central["central"]));
    field(tr!(lang, "cli-label-state"), state);
    field(tr!(lang, "cli-label-alert"), text(&central["alert"]));
    field(tr!(lang, "cli-label-breaker"), breaker_phase(lang, &central["breaker"]));
    field(tr!(lang, "cli-label-failures"), text(&central["consecutive_failures"]));
    if central["last_error"].is_string() {
        let at = local_time(&central["last_error_at"]);
        field(tr!(lang, "cli-label-last-error"), format!("{} ({at})", text(&central["last_error"])));
    }
    field(tr!(lang, "cli-label-last-success"), local_time(&central["last_success_at"]));
    field(tr!(lang, "cli-label-next-check"), local_time(&central["next_probe_at"]));
    field(tr!(lang, "cli-label-paused-until"), local_time(&central["paused_until"]));
    let count = central["jobs_waiting"].as_i64().unwrap_or(0);
    let oldest = local_time(&central["oldest_waiting_since"]);
    let waiting = if oldest.is_empty() {
        tr!(lang, "cli-cards", count = count)
    } else {
        tr!(lang, "cli-cards-oldest-since", count = count, since = oldest)
    };
    field(tr!(lang, "cli-label-waiting"), waiting);
    fields(&lines)
}

/// A printer's status (`unchecked`, `ready`, `faulted`, `paused`) in words.
fn printer_status_word(lang: Lang, code: &str) -> String {
    match code {
        "unchecked" => tr!(lang, "cli-printer-unchecked"),
        "ready" => tr!(lang, "cli-printer-ready"),
        "faulted" => tr!(lang, "cli-printer-faulted"),
        "paused" => tr!(lang, "cli-printer-paused"),
        other => other.to_owned(),
    }
}

fn printer_status(lang: Lang, printer: &Value) -> String {
    let status = text(&printer["status"]);
    let faults: Vec<String> = printer["faults"].as_array().into_iter().flatten().map(text).collect();
    let mut out = printer_status_word(lang, &status);
    if !faults.is_empty() {
        let _ = write!(out, ": {}", faults.join(", "));
        if printer["faulted_since"].is_string() {
            let _ = write!(out, " {}", tr!(lang, "cli-since-time", since = local_time(&printer["faulted_since"])));
        }
    }
    if printer["paused"].is_object() {
        let paused = tr!(
            lang,
            "cli-printer-paused-by",
            by = text(&printer["paused"]["by"]),
            since = local_time(&printer["paused"]["since"])
        );
        let _ = write!(out, "{}{paused}", if status == "paused" { " — " } else { "; " });
        if let Some(reason) = printer["paused"]["reason"].as_str() {
            let _ = write!(out, ": {reason}");
        }
    }
    out
}

/// The ledger's outcomes, in the order staff read them.
const LEDGER_COLUMNS: [&str; 8] =
    ["printed", "spoiled", "test", "not_fed", "cancelled", "unknown", "sent", "blanks_used"];

fn ledger_headers(lang: Lang) -> Vec<String> {
    vec![
        tr!(lang, "cli-col-day"),
        tr!(lang, "cli-col-printer"),
        tr!(lang, "cli-col-printed"),
        tr!(lang, "cli-col-spoiled"),
        tr!(lang, "cli-col-test"),
        tr!(lang, "cli-col-not-fed"),
        tr!(lang, "cli-col-cancelled"),
        tr!(lang, "cli-col-unknown"),
        tr!(lang, "cli-col-on-printer"),
        tr!(lang, "cli-col-blanks-used"),
    ]
}

fn ledger_table(lang: Lang, ledger: &Value) -> Result<String, StaffCliError> {
    let days = array(lang, &ledger["days"], "days")?;
    let span = if ledger["from"] == ledger["to"] {
        text(&ledger["from"])
    } else {
        tr!(lang, "cli-ledger-span", from = text(&ledger["from"]), to = text(&ledger["to"]))
    };
    if days.is_empty() {
        return Ok(format!("{}\n", tr!(lang, "cli-ledger-empty", span = span)));
    }
    let line = |day: String, printer: String, counts: &Value| {
        let mut row = vec![day, printer];
        row.extend(LEDGER_COLUMNS.iter().map(|key| text(&counts[*key])));
        row
    };
    let mut rows: Vec<Vec<String>> =
        days.iter().map(|day| line(text(&day["day"]), text(&day["printer"]), day)).collect();
    if days.len() > 1 {
        rows.push(line(tr!(lang, "cli-ledger-total"), String::new(), &ledger["totals"]));
    }
    Ok(table(&ledger_headers(lang), &rows))
}

fn printer_table(lang: Lang, answer: &Value) -> Result<String, StaffCliError> {
    let printers = array(lang, &answer["printers"], "printers")?;
    if printers.is_empty() {
        return Ok(format!("{}\n", tr!(lang, "cli-no-printers")));
    }
    let rows: Vec<Vec<String>> = printers
        .iter()
        .map(|p| {
            vec![
                text(&p["name"]),
                text(&p["pool"]),
                format!("{}/{}", text(&p["in_flight"]), text(&p["max_jobs"])),
                blanks(lang, p),
                text(&p["uri"]),
                local_time(&p["checked_at"]),
                printer_status(lang, p),
            ]
        })
        .collect();
    let headers = [
        tr!(lang, "cli-col-name"),
        tr!(lang, "cli-col-pool"),
        tr!(lang, "cli-col-jobs"),
        tr!(lang, "cli-col-blanks"),
        tr!(lang, "cli-col-device"),
        tr!(lang, "cli-col-checked"),
        tr!(lang, "cli-col-status"),
    ];
    Ok(table(&headers, &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_addresses_are_reached_on_loopback() {
        assert_eq!(default_api_url("0.0.0.0:8480".parse().unwrap(), false), "http://127.0.0.1:8480");
        assert_eq!(default_api_url("[::]:8480".parse().unwrap(), false), "http://[::1]:8480");
        assert_eq!(default_api_url("10.1.2.3:9000".parse().unwrap(), false), "http://10.1.2.3:9000");
        assert_eq!(default_api_url("0.0.0.0:8480".parse().unwrap(), true), "https://127.0.0.1:8480");
    }

    #[test]
    fn tables_align_and_path_segments_are_escaped() {
        let headers = ["A".to_owned(), "BB".to_owned()];
        let out = table(&headers, &[vec!["xyz".into(), "1".into()], vec!["q".into(), "22".into()]]);
        assert_eq!(out, "A    BB\nxyz  1\nq    22\n");
        assert_eq!(path_segment("card 1/a?b"), "card%201%2Fa%3Fb");
        assert_eq!(shorten("abcdef", 4), "abc…");
    }

    fn summary() -> Value {
        json!({
            "central": null,
            "central_off": null,
            "waiting": {
                "authorization": { "count": 2, "oldest_received_at": "2026-12-01T15:36:00Z" },
                "printing": { "count": 0 },
                "staff": { "count": 1 },
            },
            "printers": [
                { "name": "card-1", "status": "ready", "faults": [], "blanks": 40, "stock": "low" },
                { "name": "card-2", "status": "faulted", "faults": ["unreachable"] },
            ],
            "status_events": {},
            "rejections": { "distinct": 1, "deliveries": 2 },
        })
    }

    #[test]
    fn status_speaks_indonesian_by_default_and_english_on_request() {
        let id = status_text(Lang::Id, &summary());
        for expected in [
            "pusat         tidak berjalan di spooler ini (tidak berjalan di sini)",
            "antrean       2 kartu menunggu otorisasi pusat, yang terlama diterima 01-12-2026 22:36 WIB\n",
            "              0 kartu menunggu printer\n",
            "printer       card-1  siap  40 blangko (menipis)\n",
            "              card-2  bermasalah: unreachable  -\n",
            "ditolak       1 data perekaman berbeda, 2 kiriman seluruhnya\n",
        ] {
            assert!(id.contains(expected), "{expected:?} missing:\n{id}");
        }
        let en = status_text(Lang::En, &summary());
        for expected in [
            "waiting       2 cards for central, the oldest received 01-12-2026 22:36 WIB\n",
            "              1 card for staff\n",
            "printers      card-1  ready  40 blanks (low)\n",
            "refused       1 distinct event, 2 deliveries in all\n",
        ] {
            assert!(en.contains(expected), "{expected:?} missing:\n{en}");
        }
    }

    #[test]
    fn a_job_s_states_and_labels_are_in_the_reader_s_language() {
        let detail = json!({
            "job": {
                "id": "01a2", "state": "held", "held_from": "awaiting_authorization", "name": "SITI",
                "urgent": true, "attempts": 0, "created_at": "2026-12-01T15:36:00Z",
            },
            "actions": ["release", "cancel"],
            "history": [
                { "at": "2026-12-01T15:36:00Z", "from": null, "to": "awaiting_authorization", "actor": { "kind": "system" }, "reason": "" },
                { "at": "2026-12-01T15:40:00Z", "from": "awaiting_authorization", "to": "held", "actor": { "kind": "staff", "name": "rina" }, "reason": "" },
            ],
            "cards": [{ "sent_at": "2026-12-01T15:41:00Z", "printer": "card-1", "outcome": "not_fed", "reason": "" }],
        });
        let id = job_detail(Lang::Id, &detail).unwrap();
        for expected in [
            "pekerjaan     01a2\n",
            "status        ditahan\n",
            "ditahan dari  menunggu otorisasi pusat\n",
            "prioritas     mendesak\n",
            "tindakan      release, cancel\n",
            "\nriwayat\nWAKTU",
            "sistem",
            "menunggu otorisasi pusat → ditahan  rina",
            "blangko tidak masuk",
        ] {
            assert!(id.contains(expected), "{expected:?} missing:\n{id}");
        }
        let en = job_detail(Lang::En, &detail).unwrap();
        assert!(en.starts_with("job           01a2\nstate         held\nheld from     waiting for central"), "{en}");
        let listed = job_table(Lang::Id, &json!({ "jobs": [detail["job"]], "next_cursor": "c1" })).unwrap();
        assert!(listed.starts_with("ID    STATUS   KANTOR  NIK  NAMA"), "{listed}");
        assert!(listed.contains("ditahan") && listed.ends_with("berikutnya: --cursor c1\n"), "{listed}");
    }

    #[test]
    fn actions_say_what_became_of_the_job() {
        let held = json!({ "job": { "id": "01a2", "state": "held", "reason": "ditahan oleh rina" }, "ledger": null });
        assert_eq!(action_done(Lang::Id, &held), "pekerjaan 01a2: ditahan — ditahan oleh rina\n");
        let again = json!({ "job": { "id": "01a2", "state": "held" }, "ledger": null, "note": "already held" });
        assert_eq!(action_done(Lang::Id, &again), "pekerjaan 01a2: sudah ditahan\n");
        assert_eq!(action_done(Lang::En, &again), "job 01a2: already held\n");
    }

    #[test]
    fn errors_are_in_the_reader_s_language() {
        let refused = StaffCliError::Api { lang: Lang::Id, status: 404, code: "not_found".into(), message: "x".into() };
        assert_eq!(refused.to_string(), "x (HTTP 404)");
        let other = |lang| StaffCliError::NotCardspool {
            lang,
            place: "127.0.0.1:80".into(),
            status: 404,
            content_type: Some("text/html".into()),
        };
        assert_eq!(
            other(Lang::Id).to_string(),
            "layanan di 127.0.0.1:80 bukan API cardspool (jawabannya HTTP 404, text/html): periksa --api"
        );
        assert!(other(Lang::En).to_string().starts_with("the service at 127.0.0.1:80 is not a cardspool API"));
        let not_http = StaffClient::new("ftp://x", None, None, Lang::Id).err().unwrap().to_string();
        assert_eq!(not_http, "--api \"ftp://x\" harus diawali http:// atau https://");
    }
}
