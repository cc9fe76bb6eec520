//! `cardspool central-sim`: runs the reference central authorization service until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::sim::central::{load_or_create_key, CentralSimCore, CentralSimServer, Fault, SimError};

#[derive(Debug, Clone)]
pub struct CentralSimOptions {
    pub listen: SocketAddr,
    /// The secret key file; generated and saved there when missing. Without it, a fresh key
    /// for this run only.
    pub key: Option<PathBuf>,
    /// `--fault`: a mode name or a JSON object (see `PUT /admin/fault`).
    pub fault: Option<String>,
    /// How long each authorization is valid.
    pub validity: Duration,
    /// `--registry`: central's records (JSON lines of enrollment events); a request unlike its
    /// NIK's record, or for a NIK without one, is denied.
    pub registry: Option<PathBuf>,
    /// `--public-key-out`: where to write the public key for the spooler to read.
    pub public_key_out: Option<PathBuf>,
    /// `--office-token-file`: the bearer token offices must present (their credentials).
    pub office_token_file: Option<PathBuf>,
}

/// Serves until `shutdown` completes. Prints where it listens and its public key (the value
/// for `[central] public_key`) on stdout.
///
/// # Errors
/// [`SimError`] for a bad key file, a bad `--fault`, or an address that cannot be bound.
pub async fn run(options: CentralSimOptions, shutdown: impl Future<Output = ()>) -> Result<(), SimError> {
    let fault = options.fault.as_deref().map(Fault::parse).transpose()?;
    let clock = Clock::system();
    let core = match &options.key {
        Some(path) => {
            let (key, created) = load_or_create_key(path)?;
            if created {
                tracing::info!(path = %path.display(), "generated a new central-sim key");
            }
            CentralSimCore::new(key, clock)
        }
        None => CentralSimCore::generate(clock),
    };
    let mut core = core.with_validity(options.validity);
    if let Some(path) = &options.registry {
        let registry = crate::sim::central::load_registry(path)?;
        tracing::info!(path = %path.display(), records = registry.len(), "central-sim checks requests against a registry");
        core = core.with_registry(registry);
    }
    if let Some(path) = &options.office_token_file {
        let token = std::fs::read_to_string(path)
            .map_err(|source| SimError::TokenFile { path: path.display().to_string(), source })?;
        core = core.with_office_token(&token);
    }
    let core = Arc::new(core);
    if let Some(fault) = fault {
        core.set_fault(fault);
    }
    if let Some(path) = &options.public_key_out {
        // Written before the simulator answers anything: a spooler that found the file finds a
        // simulator signing with its key.
        std::fs::write(path, format!("{}\n", core.public_key_base64()))
            .map_err(|source| SimError::KeyFile { path: path.display().to_string(), source })?;
    }
    let server = CentralSimServer::start(options.listen, core.clone()).await?;
    let url = server.url();
    // One write, errors ignored: a reader that went away (a closed pipe) must not stop the
    // simulator, as `println!` would by panicking.
    let banner = format!(
        "central-sim listening on {url}\n\
         public key (for [central] public_key): {}\n\
         key id: {}\n\
         fault: {}\n\
         set a fault:  curl -X PUT {url}/admin/fault -H 'content-type: application/json' -d '{{\"mode\":\"down\"}}'\n\
         counts:       curl {url}/admin/stats\n",
        core.public_key_base64(),
        core.key_id(),
        serde_json::to_string(&core.fault()).unwrap_or_default(),
    );
    let mut stdout = std::io::stdout();
    let _ = std::io::Write::write_all(&mut stdout, banner.as_bytes()).and_then(|()| std::io::Write::flush(&mut stdout));
    shutdown.await;
    server.stop().await;
    Ok(())
}
