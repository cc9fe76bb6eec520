//! The command line: its definition ([`Cli`]) and the subcommands' own code, one file each;
//! `main.rs` only parses and dispatches.

pub mod central_sim;
pub mod config;
pub mod demo;
pub mod publish;
pub mod render;
pub mod staff;

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};

use crate::i18n::Lang;

#[derive(Debug, Parser)]
#[command(name = "cardspool", version, about = "Card-printing job spooler for e-KTP cards")]
pub struct Cli {
    /// Configuration file (default: ./cardspool.toml if present). CARDSPOOL_SECTION__KEY
    /// environment variables override it.
    #[arg(long, short, global = true, env = "CARDSPOOL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log as JSON objects, one per line.
    #[arg(long, global = true)]
    pub log_json: bool,
    /// The language the staff commands (status, jobs, printers, central, ledger, rejections,
    /// report) speak: id (Bahasa Indonesia) or en (English); `id-ID`, `en-US` are taken too.
    /// The other commands, logs and these help texts are in English.
    #[arg(long, global = true, env = "CARDSPOOL_LANG", default_value = "id", value_parser = LangParser)]
    pub lang: Lang,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
    Render(render::RenderArgs),
    /// Check or list card templates.
    Template {
        #[command(subcommand)]
        command: render::TemplateCommand,
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
    Staff(staff::StaffCommand),
}

/// `--lang`: a code [`Lang`] reads (`id`, `en-US`, …), with `id` and `en` offered in `--help`
/// and in clap's error for any other value.
#[derive(Debug, Clone, Copy)]
struct LangParser;

impl TypedValueParser for LangParser {
    type Value = Lang;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Lang, clap::Error> {
        if let Some(lang) = value.to_str().and_then(Lang::parse) {
            return Ok(lang);
        }
        // Clap's own refusal, naming the possible values.
        PossibleValuesParser::new(Lang::ALL.map(Lang::code))
            .map(|code| Lang::parse(&code).unwrap_or_default())
            .parse_ref(command, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let offered = [PossibleValue::new("id").help("Bahasa Indonesia"), PossibleValue::new("en").help("English")];
        Some(Box::new(offered.into_iter()))
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

    #[test]
    fn the_staff_commands_speak_indonesian_unless_asked_for_english() {
        use crate::i18n::Lang;
        use clap::Parser as _;
        let parse = |args: &[&str]| super::Cli::try_parse_from(args).map(|cli| cli.lang);
        assert_eq!(parse(&["cardspool", "status"]).unwrap(), Lang::Id);
        assert_eq!(parse(&["cardspool", "status", "--lang", "en"]).unwrap(), Lang::En);
        assert_eq!(parse(&["cardspool", "--lang", "en-US", "jobs", "list"]).unwrap(), Lang::En);
        let refused = parse(&["cardspool", "status", "--lang", "fr"]).unwrap_err().to_string();
        assert!(refused.contains("'fr'") && refused.contains("[possible values: id, en]"), "{refused}");
    }
}
