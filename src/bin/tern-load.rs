//! `tern-load`: a BGP load peer for sizing routers. See `tern-load --help` and
//! `tern::load` for how it works.

use std::io::Write;
use std::process::ExitCode;

use tern::load::args::{self, Command};
use tern::load::{receive, send};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let command = match args::parse(&argv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tern-load: {e}\nRun 'tern-load --help' for usage.");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match command {
        Command::Help(role) => {
            let _ = out.write_all(args::help(role).as_bytes());
            return ExitCode::SUCCESS;
        }
        Command::Send(opts) => send::run(&opts, &mut out).map(|_| true),
        Command::Receive(opts) => receive::run(&opts, &mut out).map(|r| r.complete),
    };
    let _ = out.flush();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("tern-load: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
