//! Systems other than Linux and illumos: tern cannot program their routing table.

use std::io;
use std::path::Path;

use super::{Change, Route, Settings};

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("kernel routes are not supported by tern on {}", std::env::consts::OS),
    )
}

pub(super) struct Fib {
    settings: Settings,
}

impl Fib {
    pub(super) fn open(_settings: Settings) -> io::Result<Fib> {
        Err(unsupported())
    }

    pub(super) fn settings(&self) -> Settings {
        self.settings
    }

    pub(super) fn apply(&mut self, _batch: &[Change]) -> io::Result<Vec<(usize, io::Error)>> {
        Err(unsupported())
    }

    pub(super) fn list_own(&mut self) -> io::Result<Vec<Route>> {
        Err(unsupported())
    }

    pub(super) fn flush_own(&mut self) -> io::Result<usize> {
        Err(unsupported())
    }
}

pub(super) fn enter_netns(_path: &Path) -> io::Result<()> {
    Err(unsupported())
}
