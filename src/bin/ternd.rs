//! ternd: the tern BGP daemon. Runs in the foreground and logs to stderr, as systemd and
//! SMF expect; SIGHUP reloads the configuration, SIGTERM and SIGINT stop it cleanly.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: ternd [--config FILE] [--check]

  --config FILE   the configuration (default /etc/tern/tern.toml)
  --check         validate the configuration, print what is wrong, and exit:
                  0 when it is valid, 1 when it is not
  --version       print the version
  --help          this text

Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT stop tern, sending every
peer Cease / Administrative Shutdown.";

fn main() -> ExitCode {
    let mut config = PathBuf::from(tern::config::DEFAULT_PATH);
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => match args.next() {
                Some(p) => config = PathBuf::from(p),
                None => return usage("--config needs a file name"),
            },
            "--check" | "-n" => check = true,
            "--version" | "-V" => {
                println!("ternd {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => match other.strip_prefix("--config=") {
                Some(p) => config = PathBuf::from(p),
                None => return usage(&format!("unknown argument {other:?}")),
            },
        }
    }
    if check {
        return match tern::daemon::load(&config) {
            Ok(c) => {
                println!(
                    "{}: configuration is valid ({} neighbors, {} policies, {} originated prefixes)",
                    config.display(),
                    c.neighbors.len(),
                    c.policies.len(),
                    c.origins.len()
                );
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprint!("{errors}");
                if !errors.ends_with('\n') {
                    eprintln!();
                }
                ExitCode::FAILURE
            }
        };
    }
    match tern::daemon::run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ternd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("ternd: {problem}\n\n{USAGE}");
    ExitCode::from(2)
}
