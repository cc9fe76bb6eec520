//! The `cardspool` binary: parses the command line and wires; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use cardspool::config::{Config, LogFormat};

#[derive(Debug, Parser)]
#[command(name = "cardspool", version, about = "Card-printing job spooler for e-KTP cards")]
struct Cli {
    /// Configuration file (default: ./cardspool.toml if present). CARDSPOOL_SECTION__KEY
    /// environment variables override it.
    #[arg(long, short, global = true, env = "CARDSPOOL_CONFIG")]
    config: Option<PathBuf>,
    /// Log as JSON objects, one per line.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the spooler: intake, workers, API. Stops cleanly on SIGINT or SIGTERM.
    Run,
    /// Publish enrollment events (JSON files) with publisher confirms, as an upstream service
    /// would. Exits non-zero if any is not confirmed or not routed to a queue.
    Publish {
        /// The event files (JSON), each published as it is; a file that cannot be read is
        /// reported and the others are still published.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The routing key on the enrollments exchange.
        #[arg(long, default_value = "enrollment.completed")]
        routing_key: String,
    },
    /// The whole system on one machine for a first look: the spooler with an in-process
    /// central simulator and a folder printer, and the sample events published.
    Demo {
        /// Folder of events to publish.
        #[arg(long, default_value = "samples/events")]
        samples: PathBuf,
    },
    /// Print the effective configuration (defaults, file and environment merged).
    Config,
    /// Render an event's card to PDF without printing it (a layout preview).
    Render(cardspool::cli::render::RenderArgs),
    /// Check or list card templates.
    Template {
        #[command(subcommand)]
        command: cardspool::cli::render::TemplateCommand,
    },
    /// The reference central authorization service, with fault injection (PUT /admin/fault).
    CentralSim {
        /// The address to serve on.
        #[arg(long, default_value = "127.0.0.1:8470")]
        listen: std::net::SocketAddr,
        /// Secret key file (base64); generated and saved when missing. Default: a fresh key.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Start with a fault: a mode (down, slow, pending, deny, flaky, rate_limited,
        /// unauthorized, expired, bad_signature) or a JSON object as for PUT /admin/fault.
        #[arg(long)]
        fault: Option<String>,
        /// How long each authorization is valid, in seconds.
        #[arg(long, default_value_t = 7 * 24 * 3600)]
        validity_s: u64,
        /// Central's records: JSON lines, each an enrollment event standing for its NIK's
        /// record. A request for a NIK without a record, or for a card whose data differs from
        /// the record's, is denied. Default: every card asked for is authorized.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Also write the public key (base64, the value for [central] public_key) to this
        /// file, for a spooler's `central.public_key_file`.
        #[arg(long)]
        public_key_out: Option<PathBuf>,
        /// Ask every office for the bearer token in this file (its credentials); a request
        /// without it is refused with 401.
        #[arg(long)]
        office_token_file: Option<PathBuf>,
    },
    #[command(flatten)]
    Staff(cardspool::cli::staff::StaffCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(code) => code,
        Err(error) => {
            // Our errors already carry their causes in their messages; `{:#}` would repeat them.
            eprintln!("cardspool: {error}");
            ExitCode::FAILURE
        }
    }
}

fn real_main(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    let format = if cli.log_json { LogFormat::Json } else { config.log.format };
    let one_shot = !matches!(cli.command, Command::Run | Command::Demo { .. } | Command::CentralSim { .. });
    cardspool::telemetry::init_for(format, &config.log.filter, one_shot);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Run => {
                cardspool::run(config, shutdown_signal()).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Publish { files, routing_key } => {
                let outcomes = cardspool::cli::publish::publish_files(&config.amqp, &files, &routing_key).await?;
                let mut failed = 0;
                for outcome in &outcomes {
                    match &outcome.result {
                        Ok(()) => println!("published {}", outcome.path.display()),
                        Err(error) => {
                            failed += 1;
                            eprintln!("NOT published {}: {error}", outcome.path.display());
                        }
                    }
                }
                println!("{} of {} events confirmed", outcomes.len() - failed, outcomes.len());
                Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
            }
            Command::CentralSim { listen, key, fault, validity_s, registry, public_key_out, office_token_file } => {
                let options = cardspool::cli::central_sim::CentralSimOptions {
                    listen,
                    key,
                    fault,
                    validity: std::time::Duration::from_secs(validity_s),
                    registry,
                    public_key_out,
                    office_token_file,
                };
                cardspool::cli::central_sim::run(options, shutdown_signal()).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Demo { samples } => {
                cardspool::cli::demo::run(&config, &samples, shutdown_signal()).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Config => {
                print!("{}", cardspool::cli::config::show(&config)?);
                Ok(ExitCode::SUCCESS)
            }
            Command::Render(args) => {
                println!("{}", cardspool::cli::render::render_file(&config, &args)?);
                Ok(ExitCode::SUCCESS)
            }
            Command::Template { command } => {
                let (report, fine) = cardspool::cli::render::template_command(&config, &command)?;
                println!("{report}");
                Ok(if fine { ExitCode::SUCCESS } else { ExitCode::FAILURE })
            }
            Command::Staff(command) => {
                print!("{}", cardspool::cli::staff::run(&config, command).await?);
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Completes on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// Every command and every argument says what it is for in `--help`.
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            if command.get_about().is_none() {
                missing.push(path.clone());
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if !matches!(id, "help" | "version") && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} <{id}>"));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no help text for:\n{}", missing.join("\n"));
    }
}
