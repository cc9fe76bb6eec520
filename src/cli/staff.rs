//! `cardspool jobs|printers|central ...`: the staff's commands, over the spooler's HTTP API (never the
//! journal directly, so the API's roles and audit trail apply to the command line too).
//!
//! Human-readable tables by default, the API's JSON with `--json`. The API's address defaults
//! to `[api] listen` of the configuration; the token comes from `--token` or `CARDSPOOL_TOKEN`.

use std::fmt::Write as _;
use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use crate::domain::job::JobState;
use crate::domain::office_time::OfficeZone;
use serde_json::{json, Value};

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StaffCliError {
    #[error("{}", unreachable(url, source))]
    Connect { url: String, source: reqwest::Error },
    /// The API answered with an error: its message is for the staff member.
    #[error("{message} (HTTP {status})")]
    Api { status: u16, code: String, message: String },
    #[error("the API's answer is not what this command expects: {0}")]
    Unexpected(String),
    /// Something answered at the address, but not as cardspool's API does (JSON).
    #[error("the service at {place} is not a cardspool API (it answered HTTP {status}{}): check --api", content_type.as_deref().map(|t| format!(", {t}")).unwrap_or_default())]
    NotCardspool { place: String, status: u16, content_type: Option<String> },
    #[error("{0}")]
    Usage(String),
}

/// One sentence saying what to do; the HTTP client's chain of causes goes to the log.
fn unreachable(url: &str, source: &reqwest::Error) -> String {
    let mut detail = source.to_string();
    let mut cause = std::error::Error::source(source);
    while let Some(inner) = cause {
        detail = format!("{detail}: {inner}");
        cause = inner.source();
    }
    tracing::debug!(%url, %detail, "the API could not be reached");
    let place = url.split("://").nth(1).unwrap_or(url).trim_end_matches('/');
    if source.is_connect() {
        format!("cannot connect to {place}: is `cardspool run` running there? (or give its address with --api)")
    } else if source.is_timeout() {
        format!("the spooler at {place} did not answer in time: it may be overloaded, try again")
    } else if source.is_builder() {
        format!("cannot set up a connection to {place}: {source}")
    } else {
        format!("the connection to {place} failed ({source}): is it a cardspool API?")
    }
}

impl StaffCliError {
    /// Whether running the same command again later may work (the spooler restarting, the
    /// journal busy), as opposed to a refusal.
    pub fn is_retryable(&self) -> bool {
        match self {
            StaffCliError::Connect { .. } => true,
            StaffCliError::Api { status, .. } => *status == 503,
            StaffCliError::Unexpected(_) | StaffCliError::Usage(_) | StaffCliError::NotCardspool { .. } => false,
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
    /// A client of the API at `base`; `trusted_cert`: a certificate (PEM) to trust besides the
    /// system's, such as the spooler's own self-signed `[api] tls_cert_file`.
    ///
    /// # Errors
    /// [`StaffCliError::Usage`] for a URL that is not http(s) or a certificate that cannot be read.
    pub fn new(
        base: &str,
        token: Option<String>,
        trusted_cert: Option<&std::path::Path>,
    ) -> Result<StaffClient, StaffCliError> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(StaffCliError::Usage(format!("--api {base:?} must start with http:// or https://")));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
        if let Some(path) = trusted_cert {
            let unusable =
                |problem: String| StaffCliError::Usage(format!("the API's certificate {}: {problem}", path.display()));
            let pem = std::fs::read(path).map_err(|error| unusable(error.to_string()))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| unusable(error.to_string()))? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|source| StaffCliError::Connect { url: base.to_owned(), source })?;
        Ok(StaffClient { base: base.trim_end_matches('/').to_owned(), token, http })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, StaffCliError> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let connect = |source| StaffCliError::Connect { url: self.base.clone(), source };
        let response = request.send().await.map_err(connect)?;
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
        let mut message = error.to_owned();
        if status == reqwest::StatusCode::UNAUTHORIZED && self.token.is_none() && body["code"] != "no_tokens_configured"
        {
            message.push_str(" — give one with --token or CARDSPOOL_TOKEN");
        }
        Err(StaffCliError::Api {
            status: status.as_u16(),
            code: body["code"].as_str().unwrap_or_default().to_owned(),
            message,
        })
    }

    fn not_cardspool(&self, status: reqwest::StatusCode, content_type: Option<String>) -> StaffCliError {
        let place = self.base.split("://").nth(1).unwrap_or(&self.base).to_owned();
        StaffCliError::NotCardspool { place, status: status.as_u16(), content_type }
    }

    /// `GET /api/v1{path}` with query parameters, for a file (a report): its bytes.
    ///
    /// # Errors
    /// [`StaffCliError::Connect`] or the API's refusal.
    pub async fn get_file(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<u8>, StaffCliError> {
        let url = reqwest::Url::parse_with_params(&format!("{}/api/v1{path}", self.base), query)
            .map_err(|e| StaffCliError::Usage(format!("--api {:?}: {e}", self.base)))?;
        let mut request = self.http.get(url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let connect = |source| StaffCliError::Connect { url: self.base.clone(), source };
        let response = request.send().await.map_err(connect)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(connect)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let Some(message) = body["error"].as_str() else { return Err(self.not_cardspool(status, None)) };
        Err(StaffCliError::Api {
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
            .map_err(|e| StaffCliError::Usage(format!("--api {:?}: {e}", self.base)))?;
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

/// Runs a staff command and returns what to print.
///
/// # Errors
/// When the API cannot be reached or refuses (the message says why).
pub async fn run(config: &Config, command: StaffCommand) -> Result<String, StaffCliError> {
    // Set once per process, before anything is formatted.
    let _ = OFFICE_ZONE.set(config.office.zone);
    match command {
        StaffCommand::Jobs { api, command } => {
            let client = client(config, &api)?;
            jobs(&client, command, api.json).await
        }
        StaffCommand::Printers { api, command } => {
            let client = client(config, &api)?;
            printers(&client, command, api.json).await
        }
        StaffCommand::Status { api } => {
            let client = client(config, &api)?;
            let summary = client.get("/summary", &[]).await?;
            Ok(if api.json { pretty(&summary) } else { status_text(&summary) })
        }
        StaffCommand::Rejections { api, limit } => {
            let client = client(config, &api)?;
            let answer = client.get("/rejections", &[("limit", limit.to_string())]).await?;
            if api.json {
                return Ok(pretty(&answer));
            }
            let rows: Vec<Vec<String>> = array(&answer["rejections"], "rejections")?
                .iter()
                .map(|r| {
                    let event = r["event_id"].as_str().map_or_else(|| "(no event id)".to_owned(), str::to_owned);
                    vec![local_time(&r["last_at"]), event, text(&r["times"]), shorten(&text(&r["reason"]), 100)]
                })
                .collect();
            let distinct = answer["distinct"].as_i64().unwrap_or(0);
            let deliveries = answer["deliveries"].as_i64().unwrap_or(0);
            let mut out = format!(
                "{} refused, {} in all\n",
                counted(distinct, "distinct event", "distinct events"),
                counted(deliveries, "delivery", "deliveries")
            );
            if !rows.is_empty() {
                out.push_str(&table(&["LAST SEEN", "EVENT", "TIMES", "WHY"], &rows));
            }
            Ok(out)
        }
        StaffCommand::Ledger { api, printer, day, from, to } => {
            let client = client(config, &api)?;
            let (from, to) = match day {
                Some(day) => (Some(day.clone()), Some(day)),
                None => (from, to),
            };
            let query: Vec<(&str, String)> = [("printer", printer), ("from", from), ("to", to)]
                .into_iter()
                .filter_map(|(key, value)| value.map(|v| (key, v)))
                .collect();
            let ledger = client.get("/ledger", &query).await?;
            Ok(if api.json { pretty(&ledger) } else { ledger_table(&ledger)? })
        }
        StaffCommand::Report { api, command: ReportCommand::Daily { date, format, output } } => {
            let client = client(config, &api)?;
            let mut query = vec![("format", format.clone())];
            query.extend(date.map(|date| ("date", date)));
            let file = client.get_file("/reports/daily", &query).await?;
            std::fs::write(&output, &file)
                .map_err(|error| StaffCliError::Usage(format!("cannot write {}: {error}", output.display())))?;
            Ok(format!("daily report ({format}, {} bytes) written to {}\n", file.len(), output.display()))
        }
        StaffCommand::Central { api, command } => {
            let client = client(config, &api)?;
            match command {
                CentralCommand::Status => {
                    let answer = client.get("/central", &[]).await?;
                    Ok(if api.json { pretty(&answer) } else { central_status(&answer) })
                }
                CentralCommand::Check { wait } => {
                    let asked = client.post("/central/check", &json!({})).await?;
                    let (after, answered) =
                        central_after_check(&client, &asked, std::time::Duration::from_secs(wait)).await?;
                    if api.json {
                        return Ok(pretty(&json!({ "note": asked["note"], "answered": answered, "central": after })));
                    }
                    let mut out = format!("{}\n", text(&asked["note"]));
                    if !answered {
                        let _ = writeln!(
                            out,
                            "no answer from central within {wait} s; `cardspool central status` shows it when it comes"
                        );
                    }
                    out.push_str(&central_status(&after));
                    Ok(out)
                }
            }
        }
    }
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

fn client(config: &Config, api: &ApiArgs) -> Result<StaffClient, StaffCliError> {
    let tls = config.api.tls_cert_file.as_deref();
    let base = api.api.clone().unwrap_or_else(|| default_api_url(config.api.listen, tls.is_some()));
    StaffClient::new(&base, api.token.clone().filter(|t| !t.is_empty()), tls)
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

async fn jobs(client: &StaffClient, command: JobsCommand, as_json: bool) -> Result<String, StaffCliError> {
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
            return Ok(if as_json { pretty(&page) } else { job_table(&page)? });
        }
        JobsCommand::Show { id } => {
            let id = find_job(client, &id, Finding::AnyMatch).await?;
            let detail = client.get(&format!("/jobs/{}", path_segment(&id)), &[]).await?;
            return Ok(if as_json { pretty(&detail) } else { job_detail(&detail)? });
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
    if as_json {
        return Ok(pretty(&answer));
    }
    let job = &answer["job"];
    if let Some(note) = answer["note"].as_str() {
        return Ok(format!("job {}: {note}\n", text(&job["id"])));
    }
    let mut out = format!("job {}: {} — {}\n", text(&job["id"]), text(&job["state"]), text(&job["reason"]));
    if let Some(ledger) = answer["ledger"].as_str() {
        let _ = writeln!(out, "{ledger}");
    }
    Ok(out)
}

async fn printers(client: &StaffClient, command: PrintersCommand, as_json: bool) -> Result<String, StaffCliError> {
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
    match command {
        PrintersCommand::List => return printer_table(&answer),
        PrintersCommand::Test { .. } => {
            return Ok(format!(
                "{}: test card sent as {} (counted as a test card in the blank-card ledger)\n",
                text(&answer["printer"]),
                text(&answer["test_card"])
            ))
        }
        _ => {}
    }
    let printer = &answer["printer"];
    if let PrintersCommand::Load { cards, .. } = command {
        return Ok(format!(
            "{}: {} loaded; {}\n",
            text(&printer["name"]),
            counted(i64::from(cards), "blank", "blanks"),
            blanks(printer)
        ));
    }
    Ok(format!("{}: {}\n", text(&printer["name"]), printer_status(printer)))
}

/// A printer's blanks as staff read them: `120 blanks`, `40 blanks (low)`, `8 blanks (reserve:
/// urgent cards only)`, or `-` while not counted.
fn blanks(printer: &Value) -> String {
    let Some(blanks) = printer["blanks"].as_i64() else { return "-".to_owned() };
    let blanks = counted(blanks, "blank", "blanks");
    match printer["stock"].as_str() {
        Some("low") => format!("{blanks} (low)"),
        Some("reserve") => format!("{blanks} (reserve: urgent cards only)"),
        _ => blanks,
    }
}

/// `cardspool status`: the summary as aligned lines.
fn status_text(summary: &Value) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: String| {
        let _ = writeln!(out, "{label:<13} {value}");
    };
    let central = &summary["central"];
    if central.is_object() {
        field("central", text(&central["summary"]));
    } else {
        let why = summary["central_off"].as_str().unwrap_or("not running here");
        field("central", format!("does not run in this spooler ({why}): no card is authorized or printed"));
    }
    for (key, what) in [("authorization", "for central"), ("printing", "for a printer"), ("staff", "for staff")] {
        let group = &summary["waiting"][key];
        let count = group["count"].as_i64().unwrap_or(0);
        let mut line = format!("{} {what}", counted(count, "card", "cards"));
        if count > 0 && group["oldest_received_at"].is_string() {
            let _ = write!(line, ", the oldest received {}", local_time(&group["oldest_received_at"]));
        }
        field(if key == "authorization" { "waiting" } else { "" }, line);
    }
    match summary["printers"].as_array() {
        None => field("printers", "printing does not run in this spooler".into()),
        Some(printers) if printers.is_empty() => field("printers", "none configured".into()),
        Some(printers) => {
            for (n, printer) in printers.iter().enumerate() {
                let line = format!("{}  {}  {}", text(&printer["name"]), printer_status(printer), blanks(printer));
                field(if n == 0 { "printers" } else { "" }, line);
            }
        }
    }
    let status_events = &summary["status_events"];
    if let Some(held) = status_events["held_back"].as_object() {
        let waiting = status_events["unpublished"].as_i64().unwrap_or(0);
        field(
            "upstream",
            format!(
                "status events held back since {}: {} ({waiting} waiting)",
                local_time(&held["since"]),
                text(&held["reason"]),
            ),
        );
    }
    let rejections = &summary["rejections"];
    field(
        "refused",
        format!(
            "{}, {} in all",
            counted(rejections["distinct"].as_i64().unwrap_or(0), "distinct event", "distinct events"),
            counted(rejections["deliveries"].as_i64().unwrap_or(0), "delivery", "deliveries")
        ),
    );
    out
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
    let given = given.trim();
    // A whole id is taken as it is by an action; `show` also finds an event id of that shape.
    if finding == Finding::IdOnly && uuid::Uuid::parse_str(given).is_ok() {
        return Ok(given.to_ascii_lowercase());
    }
    let page = client.get("/jobs", &[("q", given.to_owned()), ("limit", (SHOWN + 1).to_string())]).await?;
    let found = array(&page["jobs"], "jobs")?;
    let prefix = given.to_ascii_lowercase();
    let by_id: Vec<&Value> = found.iter().filter(|job| text(&job["id"]).starts_with(&prefix)).collect();
    let candidates: Vec<&Value> = match finding {
        Finding::AnyMatch if by_id.is_empty() => found.iter().collect(),
        Finding::IdOnly | Finding::AnyMatch => by_id,
    };
    let what = match finding {
        Finding::IdOnly => "a job id or its first characters",
        Finding::AnyMatch => "a job id or its first characters, an event id, a full NIK or part of a name",
    };
    match candidates.as_slice() {
        [one] => Ok(text(&one["id"])),
        [] if finding == Finding::IdOnly && !found.is_empty() => Err(StaffCliError::Usage(format!(
            "no job id starts with {given:?}; the search finds these, give one's id:\n{}",
            matches_table(&found.iter().collect::<Vec<_>>(), SHOWN)
        ))),
        [] => Err(StaffCliError::Usage(format!("no job matches {given:?} ({what})"))),
        many => {
            let more = if many.len() > SHOWN { " or more" } else { "" };
            let choose = if many.iter().all(|job| text(&job["id"]).starts_with(&prefix)) {
                "give more of the id"
            } else {
                "give one's id"
            };
            Err(StaffCliError::Usage(format!(
                "{}{more} jobs match {given:?}; {choose}:\n{}",
                many.len().min(SHOWN),
                matches_table(many, SHOWN)
            )))
        }
    }
}

/// The jobs to choose from, as `jobs list` shows them (at most `shown`).
fn matches_table(jobs: &[&Value], shown: usize) -> String {
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .take(shown)
        .map(|job| {
            vec![
                text(&job["id"]),
                text(&job["state"]),
                text(&job["nik"]),
                shorten(&text(&job["name"]), 24),
                local_time(&job["created_at"]),
            ]
        })
        .collect();
    table(&["ID", "STATE", "NIK", "NAME", "RECEIVED"], &rows).trim_end().to_owned()
}

/// `jobs where`: the estimate of every job the query finds (at most ten).
async fn where_is(client: &StaffClient, query: &str, as_json: bool) -> Result<String, StaffCliError> {
    let page = client.get("/jobs", &[("q", query.to_owned()), ("limit", "10".to_owned())]).await?;
    let jobs = array(&page["jobs"], "jobs")?;
    if jobs.is_empty() {
        return Err(StaffCliError::Usage(format!(
            "no job found for {query:?} (a full NIK, a job id or part of a name)"
        )));
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

/// `1 card`, `2 cards`, `0 cards`.
fn counted(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
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
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>, StaffCliError> {
    value.as_array().ok_or_else(|| StaffCliError::Unexpected(format!("no {what} list")))
}

fn job_table(page: &Value) -> Result<String, StaffCliError> {
    let jobs = array(&page["jobs"], "jobs")?;
    if jobs.is_empty() {
        return Ok("no jobs\n".to_owned());
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|job| {
            vec![
                text(&job["id"]),
                text(&job["state"]),
                text(&job["office"]),
                text(&job["nik"]),
                shorten(&text(&job["name"]), 24),
                text(&job["printer"]),
                local_time(&job["updated_at"]),
                shorten(&text(&job["reason"]), 60),
            ]
        })
        .collect();
    let mut out = table(&["ID", "STATE", "OFFICE", "NIK", "NAME", "PRINTER", "UPDATED", "REASON"], &rows);
    if let Some(next) = page["next_cursor"].as_str() {
        let _ = writeln!(out, "more: --cursor {next}");
    }
    Ok(out)
}

fn job_detail(detail: &Value) -> Result<String, StaffCliError> {
    let job = &detail["job"];
    let mut out = String::new();
    let mut field = |name: &str, value: String| {
        if !value.is_empty() {
            let _ = writeln!(out, "{name:<14}{value}");
        }
    };
    field("job", text(&job["id"]));
    field("event", text(&job["event_id"]));
    field("state", text(&job["state"]));
    field("reason", text(&job["reason"]));
    field("held from", text(&job["held_from"]));
    field("name", text(&job["name"]));
    field("NIK", text(&job["nik"]));
    field("office", text(&job["office"]));
    field("template", text(&job["template"]));
    field("priority", if job["urgent"] == Value::Bool(true) { "urgent".into() } else { "normal".into() });
    field("attempts", text(&job["attempts"]));
    field("next attempt", local_time(&job["next_attempt_at"]));
    field("authorized", text(&job["authorization"]["authorization_id"]));
    field("expires", text(&job["authorization"]["expires_at"]));
    field("printer", text(&job["printer"]));
    field("received", local_time(&job["created_at"]));
    for warning in job["warnings"].as_array().into_iter().flatten() {
        field("warning", text(warning));
    }
    let actions: Vec<String> = array(&detail["actions"], "actions")?.iter().map(text).collect();
    field("actions", actions.join(", "));
    out.push_str("\nhistory\n");
    let rows: Vec<Vec<String>> = array(&detail["history"], "history")?
        .iter()
        .map(|entry| {
            let by = match entry["actor"]["name"].as_str() {
                Some(name) => name.to_owned(),
                None => text(&entry["actor"]["kind"]),
            };
            let step = match entry["from"].as_str() {
                Some(from) => format!("{from} → {}", text(&entry["to"])),
                None => text(&entry["to"]),
            };
            vec![local_time(&entry["at"]), step, by, text(&entry["reason"])]
        })
        .collect();
    out.push_str(&table(&["AT", "STEP", "BY", "REASON"], &rows));
    let cards = array(&detail["cards"], "cards")?;
    if !cards.is_empty() {
        out.push_str("\ncards\n");
        let rows: Vec<Vec<String>> = cards
            .iter()
            .map(|card| {
                vec![
                    local_time(&card["sent_at"]),
                    text(&card["printer"]),
                    text(&card["outcome"]),
                    text(&card["reason"]),
                ]
            })
            .collect();
        out.push_str(&table(&["SENT", "PRINTER", "OUTCOME", "REASON"], &rows));
    }
    Ok(out)
}

fn central_status(central: &Value) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: String| {
        if !value.is_empty() {
            let _ = writeln!(out, "{name:<14}{value}");
        }
    };
    field("central", text(&central["central"]));
    field("state", format!("{} since {}", text(&central["state"]), local_time(&central["since"])));
    field("alert", text(&central["alert"]));
    field("breaker", text(&central["breaker"]));
    field("failures", text(&central["consecutive_failures"]));
    if central["last_error"].is_string() {
        field("last error", format!("{} ({})", text(&central["last_error"]), local_time(&central["last_error_at"])));
    }
    field("last success", local_time(&central["last_success_at"]));
    field("next check", local_time(&central["next_probe_at"]));
    field("paused until", local_time(&central["paused_until"]));
    let waiting = counted(central["jobs_waiting"].as_i64().unwrap_or(0), "card", "cards");
    let oldest = local_time(&central["oldest_waiting_since"]);
    field("waiting", if oldest.is_empty() { waiting } else { format!("{waiting}, the oldest since {oldest}") });
    out
}

fn printer_status(printer: &Value) -> String {
    let status = text(&printer["status"]);
    let faults: Vec<String> = printer["faults"].as_array().into_iter().flatten().map(text).collect();
    let mut out = status.clone();
    if !faults.is_empty() {
        let _ = write!(out, ": {}", faults.join(", "));
        if printer["faulted_since"].is_string() {
            let _ = write!(out, " since {}", local_time(&printer["faulted_since"]));
        }
    }
    if printer["paused"].is_object() {
        let _ = write!(
            out,
            "{}paused by {} since {}",
            if status == "paused" { " — " } else { "; " },
            text(&printer["paused"]["by"]),
            local_time(&printer["paused"]["since"])
        );
        if let Some(reason) = printer["paused"]["reason"].as_str() {
            let _ = write!(out, ": {reason}");
        }
    }
    out
}

/// The ledger's outcomes as columns, in the order staff read them.
const LEDGER_COLUMNS: [(&str, &str); 8] = [
    ("printed", "PRINTED"),
    ("spoiled", "SPOILED"),
    ("test", "TEST"),
    ("not_fed", "NOT FED"),
    ("cancelled", "CANCELLED"),
    ("unknown", "UNKNOWN"),
    ("sent", "ON PRINTER"),
    ("blanks_used", "BLANKS USED"),
];

fn ledger_table(ledger: &Value) -> Result<String, StaffCliError> {
    let days = array(&ledger["days"], "days")?;
    let span = if ledger["from"] == ledger["to"] {
        text(&ledger["from"])
    } else {
        format!("{} to {}", text(&ledger["from"]), text(&ledger["to"]))
    };
    if days.is_empty() {
        return Ok(format!("no cards in the ledger for {span}\n"));
    }
    let mut headers = vec!["DAY", "PRINTER"];
    headers.extend(LEDGER_COLUMNS.iter().map(|(_, header)| *header));
    let line = |day: String, printer: String, counts: &Value| {
        let mut row = vec![day, printer];
        row.extend(LEDGER_COLUMNS.iter().map(|(key, _)| text(&counts[*key])));
        row
    };
    let mut rows: Vec<Vec<String>> =
        days.iter().map(|day| line(text(&day["day"]), text(&day["printer"]), day)).collect();
    if days.len() > 1 {
        rows.push(line("total".into(), String::new(), &ledger["totals"]));
    }
    Ok(table(&headers, &rows))
}

fn printer_table(answer: &Value) -> Result<String, StaffCliError> {
    let printers = array(&answer["printers"], "printers")?;
    if printers.is_empty() {
        return Ok("no printers configured\n".to_owned());
    }
    let rows: Vec<Vec<String>> = printers
        .iter()
        .map(|p| {
            vec![
                text(&p["name"]),
                text(&p["pool"]),
                format!("{}/{}", text(&p["in_flight"]), text(&p["max_jobs"])),
                blanks(p),
                text(&p["uri"]),
                local_time(&p["checked_at"]),
                printer_status(p),
            ]
        })
        .collect();
    Ok(table(&["NAME", "POOL", "JOBS", "BLANKS", "DEVICE", "CHECKED", "STATUS"], &rows))
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
        let out = table(&["A", "BB"], &[vec!["xyz".into(), "1".into()], vec!["q".into(), "22".into()]]);
        assert_eq!(out, "A    BB\nxyz  1\nq    22\n");
        assert_eq!(path_segment("card 1/a?b"), "card%201%2Fa%3Fb");
        assert_eq!(shorten("abcdef", 4), "abc…");
    }
}
