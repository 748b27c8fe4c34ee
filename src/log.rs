//! Loggers: slog with a terminal format on stderr (journald and SMF capture it), or JSON
//! lines for log shippers; the daemon's level can change while it runs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use slog::{Drain, Level, Logger};

/// The output format of [`daemon`] loggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Term,
    Json,
}

/// A log level that can be changed while loggers built with it run (`ternctl log-level`).
#[derive(Debug, Clone)]
pub struct LevelSwitch(Arc<AtomicUsize>);

impl LevelSwitch {
    pub fn new(level: Level) -> LevelSwitch {
        LevelSwitch(Arc::new(AtomicUsize::new(level.as_usize())))
    }

    pub fn set(&self, level: Level) {
        self.0.store(level.as_usize(), Ordering::Relaxed);
    }

    pub fn get(&self) -> Level {
        Level::from_usize(self.0.load(Ordering::Relaxed)).unwrap_or(Level::Info)
    }
}

/// Passes records at the switch's level and above.
struct Switched<D> {
    drain: D,
    level: LevelSwitch,
}

impl<D: Drain> Drain for Switched<D> {
    type Ok = Option<D::Ok>;
    type Err = D::Err;

    fn log(&self, record: &slog::Record, values: &slog::OwnedKVList) -> Result<Self::Ok, Self::Err> {
        if record.level().is_at_least(self.level.get()) {
            self.drain.log(record, values).map(Some)
        } else {
            Ok(None)
        }
    }

    fn is_enabled(&self, level: Level) -> bool {
        level.is_at_least(self.level.get()) && self.drain.is_enabled(level)
    }
}

/// The daemon's logger: stderr in `format`, filtered by `level`.
pub fn daemon(format: Format, level: LevelSwitch) -> Logger {
    match format {
        Format::Term => {
            let decorator = slog_term::PlainDecorator::new(std::io::stderr());
            let drain = Mutex::new(slog_term::FullFormat::new(decorator).build()).fuse();
            Logger::root(Switched { drain, level }.fuse(), slog::o!())
        }
        Format::Json => {
            let drain = slog_json::Json::new(std::io::stderr()).add_default_keys().set_newlines(true).build();
            Logger::root(Switched { drain: Mutex::new(drain).fuse(), level }.fuse(), slog::o!())
        }
    }
}

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
