//! The `cardspool` binary: parses the command line and wires; the work is in the library.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use cardspool::cli::{Cli, Command};
use cardspool::config::{Config, LogFormat};

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
                print!("{}", cardspool::cli::staff::run(&config, command, cli.lang).await?);
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
