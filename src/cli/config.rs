//! `cardspool config`: print the effective configuration (defaults, file and environment merged).

use crate::config::Config;

/// Renders the configuration as TOML, the format of `cardspool.toml`.
///
/// # Errors
/// When the configuration cannot be expressed as TOML (it always can; the error is toml's).
pub fn show(config: &Config) -> Result<String, toml::ser::Error> {
    toml::to_string_pretty(config)
}
