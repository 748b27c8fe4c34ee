//! Loggers: slog with a terminal format on stderr (journald and SMF capture it).

use std::sync::Mutex;

use slog::{Drain, Level, Logger};

/// A logger writing to stderr at `level` and above.
pub fn terminal(level: Level) -> Logger {
    let decorator = slog_term::PlainDecorator::new(std::io::stderr());
    let drain = slog_term::FullFormat::new(decorator).build();
    let drain = Mutex::new(drain).fuse();
    Logger::root(slog::LevelFilter::new(drain, level).fuse(), slog::o!())
}

/// A logger that drops everything.
pub fn discard() -> Logger {
    Logger::root(slog::Discard, slog::o!())
}

/// The test logger: `TERN_LOG=debug` (or trace, info, …) shows logs, otherwise none. One
/// drain per process, so lines of several routers do not interleave.
pub fn from_env() -> Logger {
    static LOG: std::sync::OnceLock<Logger> = std::sync::OnceLock::new();
    LOG.get_or_init(|| match std::env::var("TERN_LOG").ok().and_then(|l| l.parse::<Level>().ok()) {
        Some(level) => terminal(level),
        None => discard(),
    })
    .clone()
}
