//! The configuration file, `/etc/tern/tern.toml`: parsing, validation, and the resolved
//! settings the daemon builds its router from.
//!
//! [`load`] reads a file and [`parse`] a text into a [`Config`]: the [`RouterConfig`], one
//! fully resolved [`NeighborConfig`] per `[[neighbor]]` (session timers, families, ADD-PATH,
//! import and export policies...), the named policies, the prefixes to announce and the
//! daemon's own settings (log, admin socket, FIB). README.md (Configuration) is the reference
//! for every key; `etc/tern/tern.toml` is a commented example.
//!
//! Mistakes come back as [`ConfigErrors`], each naming the file, line, column and the
//! dotted key (`neighbor[1].remote_asn`, `policy.example.rule[0].match.prefix[0]`) and
//! saying what was expected. All of them are reported at once where that makes sense: a
//! TOML syntax error stops the reading, but type, range, unknown-key and cross-key
//! mistakes are all collected. [`Config::canonical`] prints a configuration back as TOML in
//! a fixed order with the defaults written out.
//!
//! The work is split into:
//! - `walk`: the span-carrying view of the TOML document and the error list;
//! - `resolve`: the sections and their checks, defaults and the cross-key checks;
//! - `policy`: the `[policy.NAME]` sections;
//! - `print`: the canonical form.

mod policy;
mod print;
mod resolve;
mod walk;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::policy::Policy;
use crate::router::{NeighborConfig, RouterConfig};
use crate::wire::{PathAttributes, Prefix};

/// Where ternd and `ternd --check` look when no `--config` is given.
pub const DEFAULT_PATH: &str = "/etc/tern/tern.toml";
pub const DEFAULT_SOCKET: &str = "/run/tern/tern.sock";
/// Where the embedded database lives unless `[router] state_dir` says otherwise.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/tern";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Term,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    pub level: slog::Level,
    pub format: LogFormat,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FibConfig {
    pub enabled: bool,
    pub table: u32,
    pub metric: u32,
    pub keep_on_exit: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OriginConfig {
    pub prefix: Prefix,
    pub attrs: PathAttributes,
}

/// The `[router]` timers that neighbors without their own take (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerDefaults {
    pub hold_time: u16,
    pub keepalive: u16,
    pub connect_retry: u16,
}

impl Default for TimerDefaults {
    fn default() -> TimerDefaults {
        TimerDefaults { hold_time: 90, keepalive: 30, connect_retry: 30 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from.
    pub source: PathBuf,
    pub router: RouterConfig,
    /// `[router]` hold_time, keepalive and connect_retry (each neighbor's resolved timers
    /// are in its [`NeighborConfig::session`]).
    pub timers: TimerDefaults,
    pub admin_socket: PathBuf,
    pub log: LogConfig,
    pub fib: FibConfig,
    pub origins: Vec<OriginConfig>,
    /// In file order.
    pub neighbors: Vec<NeighborConfig>,
    /// Neighbors' `description`s, by neighbor address.
    pub descriptions: BTreeMap<IpAddr, String>,
    /// Every `[policy.NAME]`, by name (the built-ins `accept` and `reject` are not here).
    pub policies: BTreeMap<String, Arc<Policy>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: {}", self.file.display(), self.line, self.column, self.key, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads and checks a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let fail = |message: String| {
        ConfigErrors(vec![ConfigError { file: path.to_path_buf(), line: 1, column: 1, key: "(file)".into(), message }])
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| fail(format!("the file is not UTF-8 text: {e}")))?;
    parse(&text, path)
}

/// Checks a configuration text; `path` is what errors name as the file.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
    let mut errors = walk::Errors::new(path, text);
    let (doc, syntax) = toml::de::DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for err in &syntax {
            let span = err.span().unwrap_or(0..0);
            let mut message = err.message().trim().to_string();
            if message == "duplicate key" {
                message = format!("duplicate key {:?}", errors.text(&span));
            }
            errors.report(&span, "(TOML syntax)", message);
        }
        return Err(ConfigErrors(errors.finish()));
    }
    let root = walk::Table::root(&doc);
    match resolve::resolve(&root, &mut errors, path) {
        Some(config) if errors.is_empty() => Ok(config),
        _ => {
            if errors.is_empty() {
                // Every path that gives up reports why; this keeps a missed one visible.
                errors.report(&(0..0), "(config)", "the configuration could not be read");
            }
            Err(ConfigErrors(errors.finish()))
        }
    }
}

impl Config {
    /// The configuration as TOML: every section and key in a fixed order, defaults written
    /// out. Parsing the text gives an equal `Config` (with the same `source`), and printing
    /// that gives the same text.
    pub fn canonical(&self) -> String {
        print::canonical(self)
    }

    /// The neighbor with this address.
    pub fn neighbor(&self, address: IpAddr) -> Option<&NeighborConfig> {
        self.neighbors.iter().find(|n| n.address == address)
    }
}
