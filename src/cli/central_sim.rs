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
                println!("generated a new key in {}", path.display());
            }
            CentralSimCore::new(key, clock)
        }
        None => CentralSimCore::generate(clock),
    };
    let core = Arc::new(core.with_validity(options.validity));
    if let Some(fault) = fault {
        core.set_fault(fault);
    }
    let server = CentralSimServer::start(options.listen, core.clone()).await?;
    println!("central-sim listening on {}", server.url());
    println!("public key (for [central] public_key): {}", core.public_key_base64());
    println!("key id: {}", core.key_id());
    println!("fault: {}", serde_json::to_string(&core.fault()).unwrap_or_default());
    println!(
        "set a fault:  curl -X PUT {}/admin/fault -H 'content-type: application/json' -d '{{\"mode\":\"down\"}}'",
        server.url()
    );
    println!("counts:       curl {}/admin/stats", server.url());
    shutdown.await;
    server.stop().await;
    Ok(())
}
