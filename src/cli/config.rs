//! `cardspool config`: print the effective configuration (defaults, file and environment merged).

use crate::config::{url_without_secrets, Config};

/// What stands in for a secret in the printed configuration.
pub const HIDDEN: &str = "<hidden>";

/// Renders the configuration as TOML, the format of `cardspool.toml`, with its secrets (API
/// tokens, passwords in the broker's and the journal's URLs) hidden: the output is meant to be
/// pasted into a support ticket or a terminal someone else can see.
///
/// # Errors
/// When the configuration cannot be expressed as TOML (it always can; the error is toml's).
pub fn show(config: &Config) -> Result<String, toml::ser::Error> {
    let mut shown = config.clone();
    for token in &mut shown.api.tokens {
        HIDDEN.clone_into(&mut token.token);
    }
    shown.amqp.url = url_without_secrets(&shown.amqp.url);
    shown.journal.url = url_without_secrets(&shown.journal.url);
    shown.central.url = url_without_secrets(&shown.central.url);
    for printer in &mut shown.printers {
        printer.uri = url_without_secrets(&printer.uri);
    }
    toml::to_string_pretty(&shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ApiToken, StaffRole};

    #[test]
    fn secrets_are_hidden_and_the_rest_is_shown() {
        let mut config = Config::default();
        config.api.tokens =
            vec![ApiToken { name: "rina".into(), token: "s3cret-operator-token".into(), role: StaffRole::Operator }];
        config.amqp.url = "amqp://spooler:hunter2@rabbit:5672/%2f".into();
        config.journal.url = "postgres://cardspool:pgpass@db/cardspool".into();
        config.printers = vec![crate::config::PrinterConfig {
            name: "card-1".into(),
            uri: "ipps://print:cupspass@cups.local:631/printers/card".into(),
            pool: "ektp".into(),
            max_jobs: 1,
            ignore_tls_errors: false,
        }];
        let shown = show(&config).unwrap();
        for secret in ["s3cret-operator-token", "hunter2", "pgpass", "cupspass"] {
            assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
        }
        for kept in ["rina", "amqp://spooler:****@rabbit:5672/", "postgres://cardspool:****@db/cardspool", "operator"] {
            assert!(shown.contains(kept), "{kept} missing:\n{shown}");
        }
        let default = show(&Config::default()).unwrap();
        assert!(default.contains("sqlite://cardspool-data/journal.db"), "{default}");
    }
}
