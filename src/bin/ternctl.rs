//! ternctl: the operator's command line for a running ternd, over its admin socket.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tern::control::proto::{Direction, Request, ResetMode, RouteRequest};
use tern::control::server::BUSY;
use tern::control::{client, render, Response};

const USAGE: &str = "usage: ternctl [--socket PATH] [--json] COMMAND

Commands:
  show summary                         the router and one line per neighbor
  show neighbor [NAME|ADDRESS]         neighbors in detail (all without a name)
  show route [PREFIX|ADDRESS] [--exact] [--neighbor NAME --in|--out]
             [--family ipv4-unicast|ipv6-unicast] [--limit N]
                                       the Loc-RIB, or a neighbor's Adj-RIB-In / -Out;
                                       an address or prefix finds the longest match
                                       (--exact: that prefix only)
  show metrics                         counters in OpenMetrics text format
  announce PREFIX [--community C]... [--large-community C]... [--med N]
                                       originate a prefix (kept across restarts)
  withdraw PREFIX                      stop originating it
  reset NAME [--soft-in|--soft-out]    reset a session, or refresh routes in / out
  disable NAME [--message TEXT]        stop a session and keep it down (kept across restarts)
  enable NAME                          start it again
  reload                               re-read the configuration file
  log-level LEVEL                      error, warn, info, debug or trace

Options:
  --socket PATH   the daemon's admin socket (default $TERN_SOCKET or /run/tern/tern.sock)
  --json          print the daemon's answer as it came, one JSON object
  --timeout SECS  how long to wait for the daemon (default 30)

Exit status: 0 done; 1 the daemon refused (it says why); 2 bad usage; 3 no daemon answered.";

struct Args {
    words: Vec<String>,
    flags: Vec<(String, Option<String>)>,
}

/// Flags that take a value.
const VALUED: &[&str] = &[
    "--socket",
    "--neighbor",
    "--family",
    "--limit",
    "--community",
    "--large-community",
    "--med",
    "--message",
    "--timeout",
];
const SWITCHES: &[&str] = &["--json", "--in", "--out", "--exact", "--soft-in", "--soft-out", "--help"];

fn parse(raw: Vec<String>) -> Result<Args, String> {
    let mut a = Args { words: Vec::new(), flags: Vec::new() };
    let mut it = raw.into_iter();
    while let Some(arg) = it.next() {
        if let Some((name, value)) = arg.split_once('=').filter(|(n, _)| n.starts_with("--")) {
            if !VALUED.contains(&name) {
                return Err(format!("unknown option {name}"));
            }
            a.flags.push((name.to_string(), Some(value.to_string())));
        } else if VALUED.contains(&arg.as_str()) {
            let v = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
            a.flags.push((arg, Some(v)));
        } else if SWITCHES.contains(&arg.as_str()) || arg == "-h" {
            a.flags.push((arg, None));
        } else if arg.starts_with("--") {
            return Err(format!("unknown option {arg}"));
        } else {
            a.words.push(arg);
        }
    }
    Ok(a)
}

impl Args {
    fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| n == name)
    }

    fn value(&self, name: &str) -> Option<String> {
        self.flags.iter().rev().find(|(n, _)| n == name).and_then(|(_, v)| v.clone())
    }

    fn values(&self, name: &str) -> Vec<String> {
        self.flags.iter().filter(|(n, _)| n == name).filter_map(|(_, v)| v.clone()).collect()
    }
}

fn request(a: &Args) -> Result<Request, String> {
    let w: Vec<&str> = a.words.iter().map(String::as_str).collect();
    let one = |what: &str| -> Result<String, String> {
        match w.len() {
            2 => Ok(w[1].to_string()),
            1 => Err(format!("{} needs {what}", w[0])),
            _ => Err(format!("{} takes one {what}, got {}", w[0], w.len() - 1)),
        }
    };
    Ok(match w.as_slice() {
        ["show", "summary"] | ["summary"] => Request::Summary,
        ["show", "neighbor" | "neighbors"] => Request::Neighbors,
        ["show", "neighbor" | "neighbors", name] => Request::Neighbor { neighbor: name.to_string() },
        ["show", "route" | "routes", rest @ ..] if rest.len() <= 1 => {
            let direction = match (a.has("--in"), a.has("--out")) {
                (true, true) => return Err("--in and --out exclude each other".into()),
                (true, false) => Some(Direction::In),
                (false, true) => Some(Direction::Out),
                (false, false) => None,
            };
            let neighbor = a.value("--neighbor");
            if neighbor.is_some() && direction.is_none() {
                return Err("--neighbor needs --in (its Adj-RIB-In) or --out (its Adj-RIB-Out)".into());
            }
            let limit = match a.value("--limit") {
                Some(l) => Some(l.parse().map_err(|_| format!("--limit {l:?} is not a number"))?),
                None => None,
            };
            Request::Routes(RouteRequest {
                prefix: rest.first().map(|s| s.to_string()),
                exact: a.has("--exact"),
                neighbor,
                direction,
                family: a.value("--family"),
                limit,
            })
        }
        ["show", "metrics"] | ["metrics"] => Request::Metrics,
        ["announce", ..] => Request::Announce {
            prefix: one("a prefix")?,
            communities: a.values("--community"),
            large_communities: a.values("--large-community"),
            med: match a.value("--med") {
                Some(m) => Some(m.parse().map_err(|_| format!("--med {m:?} is not a number 0-4294967295"))?),
                None => None,
            },
        },
        ["withdraw", ..] => Request::Withdraw { prefix: one("a prefix")? },
        ["reset", ..] => Request::Reset {
            neighbor: one("a neighbor name")?,
            mode: match (a.has("--soft-in"), a.has("--soft-out")) {
                (true, true) => return Err("--soft-in and --soft-out exclude each other".into()),
                (true, false) => ResetMode::SoftIn,
                (false, true) => ResetMode::SoftOut,
                (false, false) => ResetMode::Hard,
            },
        },
        ["disable", ..] => Request::Disable { neighbor: one("a neighbor name")?, message: a.value("--message") },
        ["enable", ..] => Request::Enable { neighbor: one("a neighbor name")? },
        ["reload"] => Request::Reload,
        ["log-level", ..] => Request::LogLevel { level: one("a level")? },
        [] => return Err("no command given".into()),
        _ => return Err(format!("unknown command: {}", w.join(" "))),
    })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1).collect()) {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    if args.has("--help") || args.has("-h") || args.words.first().is_some_and(|w| w == "help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let req = match request(&args) {
        Ok(r) => r,
        Err(e) => return usage(&e),
    };
    let socket = args
        .value("--socket")
        .or_else(|| std::env::var("TERN_SOCKET").ok())
        .unwrap_or_else(|| tern::config::DEFAULT_SOCKET.to_string());
    let timeout = match args.value("--timeout").map(|t| t.parse::<u64>()) {
        None => Duration::from_secs(30),
        Some(Ok(t)) if t > 0 => Duration::from_secs(t),
        Some(_) => return usage("--timeout needs a whole number of seconds above 0"),
    };
    let (line, response) = match client::call(&PathBuf::from(&socket), &req, timeout) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ternctl: {e:#}");
            return ExitCode::from(3);
        }
    };
    // A refusal for lack of capacity is "no answer" (3), not "the daemon refused" (1).
    let failure = |e: &str| if e.starts_with(BUSY) { ExitCode::from(3) } else { ExitCode::FAILURE };
    if args.has("--json") {
        out(&format!("{line}\n"));
        return match &response {
            Response::Ok(_) => ExitCode::SUCCESS,
            Response::Error(e) => failure(e),
        };
    }
    match response {
        Response::Ok(reply) => {
            out(&render::reply(&reply));
            ExitCode::SUCCESS
        }
        Response::Error(e) => {
            eprintln!("ternctl: {e}");
            failure(&e)
        }
    }
}

/// Writes to stdout; a reader that went away (`ternctl show route | head`) is not an error.
fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("ternctl: cannot write the answer: {e}");
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("ternctl: {problem}\n\n{USAGE}");
    ExitCode::from(2)
}
