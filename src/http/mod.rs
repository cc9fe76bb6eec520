//! The staff's HTTP side: health checks and Prometheus metrics for the operator, the JSON API
//! under `/api/v1` for the dashboard and the CLI, and the dashboard itself at `/`.
//!
//! - `GET /healthz`, `GET /readyz`, `GET /metrics`: unauthenticated, read-only.
//! - `GET /` (the dashboard) and `GET /dashboard/messages` (its texts): unauthenticated, no data.
//! - `/api/v1/...`: a bearer token per staff member, with a role (viewer < operator <
//!   supervisor, see [`crate::config::StaffRole`]). Every job action is one checked step of the
//!   journal, recorded with the staff member's name as its actor.
//!
//! Architecture invariants: the API changes jobs only through [`Journal::transition`] (so the
//! domain's state machine decides), and printers only through the dispatch worker's
//! [`Printers`] handle. No response carries a payload, a photo, a signature, central's stored
//! authorization or a full NIK ([`views`]).

mod actions;
mod auth;
mod central;
mod dashboard;
mod error;
mod health;
mod jobs;
pub mod language;
mod metrics;
mod printers;
mod reports;
mod summary;
mod templates;
pub mod views;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::{info_span, warn};

use crate::central::CentralMonitor;
use crate::clock::Clock;
use crate::config::ApiToken;
use crate::domain::office_time::OfficeZone;
use crate::journal::Journal;
use crate::printer::pool::Printers;
use crate::printer::test_card::TestCards;
use crate::render::TemplateStore;
use crate::telemetry::{IntakeStats, PartsHealth, StatusEventStats};

pub use actions::{plan as plan_staff_action, ActionRequest, JobAction, ResolveOutcome};
pub use auth::Staff;
pub use error::ApiError;

/// How long one request may take before the client gets a 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the handlers share.
pub struct ApiState {
    journal: Journal,
    clock: Clock,
    tokens: auth::Tokens,
    wrong_tokens: auth::WrongTokens,
    /// Full-NIK searches allowed per staff member per hour.
    nik_searches_per_hour: u32,
    /// The dashboard's and the slip's language when a request names none (`[api] language`).
    language: crate::i18n::Lang,
    /// The zone staff read times in (the dashboard formats the API's UTC times with it).
    office_zone: OfficeZone,
    /// This office's code (`[central] office`), for the reports.
    office_code: String,
    /// How printers' counts of blanks read (`printing.low_stock`, `reserve_stock`).
    stock_levels: views::StockLevels,
    /// The dispatch worker's printers; `None` when printing does not run in this process.
    printers: Option<Printers>,
    intake: Option<Arc<IntakeStats>>,
    /// What the status events' publisher met (held back for want of a queue).
    status_events: Option<Arc<StatusEventStats>>,
    /// The spooler's parts that stopped (`/healthz`).
    parts: Option<Arc<PartsHealth>>,
    /// Central's state from the authorize worker; `None` when authorization does not run.
    central: Option<CentralMonitor>,
    /// Why authorization does not run, when it does not (no usable central key).
    central_off: Option<String>,
    /// Sends test cards; `None` when printing does not run in this process.
    test_cards: Option<Arc<dyn TestCards>>,
    /// The card templates dispatch renders with; `None` when rendering does not run.
    templates: Option<Arc<TemplateStore>>,
    metrics: metrics::Metrics,
}

/// The API, assembled from the parts of the spooler it shows. Parts not given (a spooler
/// without printers, a test without intake) are reported as not running.
pub struct Api {
    state: ApiState,
    /// Serve over TLS with this certificate and key (`[api] tls_cert_file`, `tls_key_file`).
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
}

impl Api {
    pub fn new(journal: Journal, tokens: &[ApiToken], clock: Clock) -> Api {
        Api {
            state: ApiState {
                journal,
                clock,
                tokens: auth::Tokens::new(tokens),
                wrong_tokens: auth::WrongTokens::default(),
                nik_searches_per_hour: crate::config::ApiConfig::default().nik_searches_per_hour,
                language: crate::i18n::Lang::default(),
                office_zone: OfficeZone::default(),
                office_code: crate::config::CentralConfig::default().office,
                stock_levels: views::StockLevels {
                    low: crate::config::PrintingConfig::default().low_stock,
                    reserve: crate::config::PrintingConfig::default().reserve_stock,
                },
                printers: None,
                intake: None,
                status_events: None,
                parts: None,
                central: None,
                central_off: None,
                templates: None,
                test_cards: None,
                metrics: metrics::Metrics::new(),
            },
            tls: None,
        }
    }

    /// Serves over TLS with the certificate chain and key in these PEM files.
    ///
    /// # Errors
    /// When a file cannot be read or holds no usable certificate or key.
    pub async fn with_tls(mut self, cert: &std::path::Path, key: &std::path::Path) -> std::io::Result<Api> {
        // The process-wide rustls provider (ring), as for every TLS client of the spooler.
        let _ = rustls::crypto::ring::default_provider().install_default();
        self.tls = Some(axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await?);
        Ok(self)
    }

    /// The printers staff see and pause (the dispatch worker's).
    #[must_use]
    pub fn with_printers(mut self, printers: Printers) -> Api {
        self.state.printers = Some(printers);
        self
    }

    /// The dispatch worker's printers, and its handle for test cards.
    #[must_use]
    pub fn with_printing(mut self, printers: Printers, test_cards: Arc<dyn TestCards>) -> Api {
        self.state.printers = Some(printers);
        self.state.test_cards = Some(test_cards);
        self
    }

    /// Full-NIK searches allowed per staff member per hour (`[api] nik_searches_per_hour`).
    #[must_use]
    pub fn with_nik_searches_per_hour(mut self, searches: u32) -> Api {
        self.state.nik_searches_per_hour = searches;
        self
    }

    /// The language of the dashboard and of the citizen's slip when the request names none
    /// (`[api] language`).
    #[must_use]
    pub fn with_language(mut self, language: crate::i18n::Lang) -> Api {
        self.state.language = language;
        self
    }

    /// The office's time zone (`[office] zone`), for the times staff read.
    #[must_use]
    pub fn with_office_zone(mut self, zone: OfficeZone) -> Api {
        self.state.office_zone = zone;
        self
    }

    /// This office's code (`[central] office`), named in the reports.
    #[must_use]
    pub fn with_office_code(mut self, code: &str) -> Api {
        code.clone_into(&mut self.state.office_code);
        self
    }

    /// The levels at which a printer's blanks are low, and its reserve (urgent cards only).
    #[must_use]
    pub fn with_stock_levels(mut self, low: u32, reserve: u32) -> Api {
        self.state.stock_levels = views::StockLevels { low, reserve };
        self
    }

    /// The parts of the spooler, for `/healthz` to name one that stopped.
    #[must_use]
    pub fn with_parts_health(mut self, parts: Arc<PartsHealth>) -> Api {
        self.state.parts = Some(parts);
        self
    }

    /// The status events' publisher's state (held back for want of a queue), for the summary
    /// and `/metrics`.
    #[must_use]
    pub fn with_status_event_stats(mut self, stats: Arc<StatusEventStats>) -> Api {
        self.state.status_events = Some(stats);
        self
    }

    /// Intake's counters, for the summary and `/metrics`.
    #[must_use]
    pub fn with_intake_stats(mut self, stats: Arc<IntakeStats>) -> Api {
        self.state.intake = Some(stats);
        self
    }

    /// Central's state and the "check now" handle (the authorize worker's monitor).
    #[must_use]
    pub fn with_central(mut self, monitor: CentralMonitor) -> Api {
        self.state.central = Some(monitor);
        self
    }

    /// Authorization does not run, for `reason` (no usable central key): `/readyz` fails with
    /// it and the summary shows it, so the operator and staff see why nothing prints.
    #[must_use]
    pub fn with_central_off(mut self, reason: impl Into<String>) -> Api {
        self.state.central_off = Some(reason.into());
        self
    }

    /// The templates cards are rendered with, for `GET /templates` and previews.
    #[must_use]
    pub fn with_templates(mut self, templates: Arc<TemplateStore>) -> Api {
        self.state.templates = Some(templates);
        self
    }

    /// The routes, ready to serve.
    pub fn router(self) -> Router {
        if self.state.tokens.is_empty() {
            warn!("no [api] tokens configured: the staff API refuses every request");
        }
        let office_zone = self.state.office_zone;
        let api = Router::new()
            .route("/summary", get(summary::summary))
            .route("/jobs", get(jobs::list))
            .route("/jobs/{id}", get(jobs::show))
            .route("/jobs/{id}/estimate", get(jobs::estimate))
            .route("/jobs/{id}/slip", get(jobs::slip))
            .route("/jobs/{id}/{action}", post(jobs::act))
            .route("/printers", get(printers::list))
            .route("/printers/{name}/{action}", post(printers::act))
            .route("/rejections", get(summary::rejections))
            .route("/audit/nik-searches", get(jobs::nik_searches))
            .route("/reports/daily", get(reports::daily))
            .route("/ledger", get(reports::ledger))
            .route("/central", get(central::status))
            .route("/central/check", post(central::check))
            .route("/templates", get(templates::list))
            .route("/templates/{name}/preview", get(templates::preview))
            .fallback(|| async { ApiError::NotFound(crate::tr!(crate::i18n::Lang::En, "said-api-no-route")) })
            .layer(axum::middleware::from_fn(move |request, next| {
                language::restate_answers(office_zone, request, next)
            }));
        Router::new()
            .route("/", get(dashboard::page))
            .route("/dashboard/messages", get(dashboard::messages))
            .route("/healthz", get(health::healthz))
            .route("/readyz", get(health::readyz))
            .route("/metrics", get(health::metrics))
            .nest("/api/v1", api)
            .with_state(Arc::new(self.state))
            .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
            // No page of ours in another site's frame (a staff action clicked through a
            // disguise), no address of ours (it may name a job) sent as a referrer, no
            // content-type guessing; answers other than the dashboard run nothing at all.
            .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
            .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            ))
            // The span names the path only: a query string may hold a NIK typed into a search.
            .layer(TraceLayer::new_for_http().make_span_with(
                |request: &Request<_>| info_span!("http", method = %request.method(), path = %request.uri().path()),
            ))
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    ///
    /// # Errors
    /// When the listener fails for good.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let tls = self.tls.clone();
        // The client's address limits wrong tokens (`auth::WrongTokens`).
        let app = self.router().into_make_service_with_connect_info::<SocketAddr>();
        let Some(tls) = tls else {
            return axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
        };
        let handle = axum_server::Handle::new();
        let stopping = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            stopping.graceful_shutdown(Some(REQUEST_TIMEOUT));
        });
        axum_server::from_tcp_rustls(listener.into_std()?, tls)?.handle(handle).serve(app).await
    }
}

/// Binds the API's address (`127.0.0.1:0` picks a free port; the listener knows which).
///
/// # Errors
/// When the address cannot be bound (in use, not local, no permission).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}
