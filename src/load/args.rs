//! The command line of `tern-load`, parsed by hand: `ROLE [--flag VALUE | --flag=VALUE]...`.
//!
//! Every mistake is a [`UsageError`] that names the offending flag or value; the binary
//! prints it with a pointer to `--help` and exits with status 2.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::gen::{self, Params};
use super::peer::{Endpoint, PeerConfig};

/// The BGP port, used when an address comes without one.
pub const DEFAULT_PORT: u16 = 179;
const DEFAULT_TIMEOUT_S: f64 = 120.0;

pub const USAGE: &str = "\
tern-load: a BGP load peer for sizing routers, built on tern's codec

Usage:
  tern-load send    (--connect ADDR[:PORT] [--bind ADDR] | --listen ADDR[:PORT])
                    --asn N --peer-asn N --prefixes N [--mode dense|diverse] [options]
  tern-load receive (--connect ADDR[:PORT] [--bind ADDR] | --listen ADDR[:PORT])
                    --asn N --peer-asn N --expect N [options]
  tern-load help [send|receive]       (or ROLE --help)

`send` sets up one eBGP or iBGP session with the target router, encodes a generated IPv4
table before the clock starts, writes it as fast as the socket takes it, then End-of-RIB,
and reports how long the writing took. `receive` sets up a session, counts the distinct
IPv4 unicast prefixes the target announces, and reports when the first and the last of
the N expected ones arrived. Run a receiver behind the router and a sender in front of it
to time the router; compare the RESULT lines' epoch timestamps.

Run `tern-load send --help` or `tern-load receive --help` for the options of each role.
";

const COMMON: &str = "\
Session options (both roles):
  --connect ADDR[:PORT]   connect to the target (port 179 by default), retrying until
                          the timeout
  --bind ADDR             source address for --connect
  --listen ADDR[:PORT]    instead, wait for the target to connect to ADDR (port 179)
  --asn N                 our AS number (4-octet AS numbers are fine)
  --peer-asn N            the target's AS number, checked against its OPEN
  --router-id A.B.C.D     our BGP identifier (default: the local IPv4 address of the
                          connection)
  --hold SECONDS          proposed hold time: 0 or 3..65535 (default 90); keepalives go
                          out every third of the negotiated hold time
  --extended-message      offer extended messages (RFC 8654, UPDATEs up to 65535 octets)
  --timeout SECONDS       give up after this long (default 120; see the role)
  -h, --help              this help

Both roles offer 4-octet AS, multiprotocol IPv4 unicast and route refresh.

Output on standard output, one line each, `KEY=VALUE` fields, timestamps in milliseconds
since the Unix epoch so that a harness can compare the sender's with a receiver's:
  ESTABLISHED role=... local=... peer=... peer_asn=... hold=...
  FIRST role=receive first_ms=...                     (receive: the first prefix arrived)
  RESULT role=... status=ok|timeout ...               (the summary)
Human-readable lines go to standard output as well; errors to standard error.
Exit status: 0 done, 1 failure or timeout, 2 bad command line.
";

const SEND: &str = "\
tern-load send: announce a generated IPv4 unicast table as fast as the target takes it

Options:
  --prefixes N            number of distinct prefixes to announce (required)
  --mode dense|diverse    shape of the table (default dense):
                          dense: consecutive /24s from 1.0.0.0, one attribute set per
                            2,000 prefixes (500 for 1M), about 1,000 prefixes per UPDATE
                          diverse: /20../24s, 3 attribute sets per 10 prefixes (300,000
                            for 1M; AS paths of 1-8 hops, communities, MED), mostly one
                            to a few prefixes per UPDATE
  --sets N                number of attribute sets instead of the mode's default
  --next-hop A.B.C.D      lowest NEXT_HOP (default 198.18.0.1); dense uses 4 next hops
                          counting up from it, diverse 64. Keep them in 198.18.0.0/15:
                          several daemons refuse loopback next hops
  --keep SECONDS          after the End-of-RIB, keep the session up this long (default:
                          until killed or the target closes it), so that the target does
                          not withdraw the routes. A Cease from the target ends the run
                          normally; any other end of the session is an error
  --timeout SECONDS       how long to wait for the session (default 120)

Every AS path starts with our AS (--asn) and continues with AS numbers from 64512..65511
and 200000..4199999: give the router under test and the receivers AS numbers outside those
ranges, or their loop detection drops routes.

The table is generated and encoded before the session is set up (again after it, should
the negotiation call for another encoding). The clock runs from just before the first
UPDATE octet is written to just after the last one was; the End-of-RIB follows.

  RESULT role=send status=ok mode=... prefixes=N sets=... updates=... bytes=...
         prefixes_per_update=... first_ms=... last_ms=... elapsed_s=... prefixes_per_s=...

Example: tern-load send --connect 127.0.40.1 --bind 127.0.40.2 --asn 4200000100 \\
             --peer-asn 4200000001 --prefixes 1000000 --mode dense --keep 60
";

const RECEIVE: &str = "\
tern-load receive: count the IPv4 unicast prefixes the target announces

Options:
  --expect N              stop when N distinct prefixes are announced (required);
                          re-announcements count once, withdrawals subtract
  --timeout SECONDS       give up this long after starting (default 120), exit status 1
  --keep SECONDS          after reaching N, keep the session up this long before
                          closing it (default 0)

FIRST is printed as the first prefix arrives; first_ms and last_ms are when the first
prefix and the N-th distinct one were decoded.

  RESULT role=receive status=ok|timeout expect=N prefixes=... updates=...
         announcing_updates=... announced=... withdrawn=... prefixes_per_update=...
         first_ms=... last_ms=... elapsed_s=... prefixes_per_s=... end_of_rib=yes|no

Example: tern-load receive --connect 127.0.40.1 --bind 127.0.40.3 --asn 4200000200 \\
             --peer-asn 4200000001 --expect 1000000
";

/// Help for a role, or the overview.
pub fn help(role: Option<Role>) -> String {
    match role {
        None => USAGE.to_string(),
        Some(Role::Send) => format!("{SEND}\n{COMMON}"),
        Some(Role::Receive) => format!("{RECEIVE}\n{COMMON}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Send,
    Receive,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Send => "send",
            Role::Receive => "receive",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Dense,
    Diverse,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Dense => "dense",
            Mode::Diverse => "diverse",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SendOptions {
    pub peer: PeerConfig,
    pub mode: Mode,
    pub table: Params,
    /// `None`: until killed or the peer closes.
    pub keep: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReceiveOptions {
    pub peer: PeerConfig,
    pub expect: usize,
    pub keep: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help(Option<Role>),
    Send(SendOptions),
    Receive(ReceiveOptions),
}

/// A bad command line, said in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Flags of each role; `true` when the flag takes a value.
const COMMON_FLAGS: &[(&str, bool)] = &[
    ("--connect", true),
    ("--bind", true),
    ("--listen", true),
    ("--asn", true),
    ("--peer-asn", true),
    ("--router-id", true),
    ("--hold", true),
    ("--extended-message", false),
    ("--timeout", true),
    ("--keep", true),
];
const SEND_FLAGS: &[(&str, bool)] = &[("--prefixes", true), ("--mode", true), ("--sets", true), ("--next-hop", true)];
const RECEIVE_FLAGS: &[(&str, bool)] = &[("--expect", true)];

/// The flags given, in order, with their values.
struct Flags {
    role: Role,
    given: Vec<(&'static str, Option<String>)>,
}

impl Flags {
    fn take(&mut self, flag: &str) -> Option<Option<String>> {
        let i = self.given.iter().position(|(f, _)| *f == flag)?;
        Some(self.given.remove(i).1)
    }

    fn value(&mut self, flag: &str) -> Option<String> {
        self.take(flag).map(|v| v.expect("flag takes a value"))
    }

    fn required(&mut self, flag: &str) -> Result<String, UsageError> {
        self.value(flag).map_or_else(|| err(format!("{}: {flag} is required", self.role.name())), Ok)
    }

    fn parsed<T: std::str::FromStr>(&mut self, flag: &str, what: &str) -> Result<Option<T>, UsageError> {
        self.value(flag).map(|v| v.parse().or_else(|_| err(format!("{flag}: expected {what}, got '{v}'")))).transpose()
    }

    fn seconds(&mut self, flag: &str) -> Result<Option<Duration>, UsageError> {
        match self.parsed::<f64>(flag, "a number of seconds")? {
            Some(s) if !(0.0..=1e9).contains(&s) => err(format!("{flag}: {s} seconds is out of range")),
            other => Ok(other.map(Duration::from_secs_f64)),
        }
    }
}

/// `ADDR` or `ADDR:PORT` (IPv6 with a port as `[ADDR]:PORT`).
pub fn parse_endpoint(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>().ok().or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, DEFAULT_PORT)))
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let Some(first) = args.first() else { return err("no role given: expected 'send' or 'receive'") };
    let role = match first.as_str() {
        "send" => Role::Send,
        "receive" => Role::Receive,
        "-h" | "--help" => return Ok(Command::Help(None)),
        "help" => {
            return match args.get(1).map(String::as_str) {
                None => Ok(Command::Help(None)),
                Some("send") => Ok(Command::Help(Some(Role::Send))),
                Some("receive") => Ok(Command::Help(Some(Role::Receive))),
                Some(other) => err(format!("help: unknown role '{other}': expected 'send' or 'receive'")),
            }
        }
        other if other.starts_with('-') => {
            return err(format!("expected a role ('send' or 'receive') before '{other}'"))
        }
        other => return err(format!("unknown role '{other}': expected 'send' or 'receive'")),
    };
    let own = if role == Role::Send { SEND_FLAGS } else { RECEIVE_FLAGS };
    let mut flags = Flags { role, given: Vec::new() };
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help(Some(role)));
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let Some(&(flag, takes_value)) = COMMON_FLAGS.iter().chain(own).find(|(f, _)| *f == name) else {
            return err(if name.starts_with('-') {
                format!("{}: unknown option '{name}'", role.name())
            } else {
                format!("{}: unexpected argument '{name}'", role.name())
            });
        };
        if flags.given.iter().any(|(f, _)| *f == flag) {
            return err(format!("{flag} is given twice"));
        }
        let value = match (takes_value, inline) {
            (false, None) => None,
            (false, Some(_)) => return err(format!("{flag} takes no value")),
            (true, Some(v)) => Some(v),
            (true, None) => match rest.next() {
                Some(v) => Some(v.clone()),
                None => return err(format!("{flag} needs a value")),
            },
        };
        flags.given.push((flag, value));
    }
    let peer = peer_config(&mut flags)?;
    let command = match role {
        Role::Send => send_options(&mut flags, peer)?,
        Role::Receive => receive_options(&mut flags, peer)?,
    };
    debug_assert!(flags.given.is_empty(), "every flag was read: {:?}", flags.given);
    Ok(command)
}

fn peer_config(f: &mut Flags) -> Result<PeerConfig, UsageError> {
    let endpoint_of = |flag: &str, v: String| {
        parse_endpoint(&v).map_or_else(|| err(format!("{flag}: expected ADDR or ADDR:PORT, got '{v}'")), Ok)
    };
    let bind = f.parsed::<IpAddr>("--bind", "an IP address")?;
    let endpoint = match (f.value("--connect"), f.value("--listen")) {
        (Some(c), None) => Endpoint::Connect { addr: endpoint_of("--connect", c)?, bind },
        (None, Some(l)) => {
            if bind.is_some() {
                return err("--bind goes with --connect; --listen already names the local address");
            }
            Endpoint::Listen(endpoint_of("--listen", l)?)
        }
        (Some(_), Some(_)) => return err("give either --connect or --listen, not both"),
        (None, None) => return err(format!("{}: --connect or --listen is required", f.role.name())),
    };
    let asn_of = |flag: &str, v: String| {
        v.parse::<u32>()
            .ok()
            .filter(|a| *a != 0)
            .map_or_else(|| err(format!("{flag}: expected an AS number 1..4294967295, got '{v}'")), Ok)
    };
    let asn = f.required("--asn")?;
    let asn = asn_of("--asn", asn)?;
    let peer_asn = f.required("--peer-asn")?;
    let peer_asn = asn_of("--peer-asn", peer_asn)?;
    let router_id = f.parsed::<Ipv4Addr>("--router-id", "an IPv4 address A.B.C.D")?;
    if router_id.is_some_and(|r| r.is_unspecified()) {
        return err("--router-id: 0.0.0.0 is not a valid BGP identifier");
    }
    let hold_time = f.parsed::<u16>("--hold", "a hold time 0 or 3..65535")?.unwrap_or(90);
    if hold_time == 1 || hold_time == 2 {
        return err(format!("--hold: {hold_time} is not allowed (0 or 3..65535, RFC 4271 §4.2)"));
    }
    let extended_message = f.take("--extended-message").is_some();
    let timeout = f.seconds("--timeout")?.unwrap_or(Duration::from_secs_f64(DEFAULT_TIMEOUT_S));
    Ok(PeerConfig { endpoint, asn, peer_asn, router_id, hold_time, extended_message, timeout })
}

fn send_options(f: &mut Flags, peer: PeerConfig) -> Result<Command, UsageError> {
    let prefixes = f.required("--prefixes")?;
    let prefixes: usize =
        prefixes.parse().or_else(|_| err(format!("--prefixes: expected a number, got '{prefixes}'")))?;
    let mode = match f.value("--mode").as_deref() {
        None | Some("dense") => Mode::Dense,
        Some("diverse") => Mode::Diverse,
        Some(other) => return err(format!("--mode: expected 'dense' or 'diverse', got '{other}'")),
    };
    let (max, mut table) = match mode {
        Mode::Dense => (gen::MAX_DENSE_PREFIXES, Params::dense(prefixes)),
        Mode::Diverse => (gen::MAX_DIVERSE_PREFIXES, Params::diverse(prefixes)),
    };
    if !(1..=max).contains(&prefixes) {
        return err(format!("--prefixes: {prefixes} is out of range for {} tables (1..={max})", mode.name()));
    }
    if let Some(sets) = f.parsed::<usize>("--sets", "a number of attribute sets")? {
        if !(1..=prefixes).contains(&sets) {
            return err(format!("--sets: {sets} is out of range (1..=--prefixes)"));
        }
        table.sets = sets;
    }
    if let Some(nh) = f.parsed::<Ipv4Addr>("--next-hop", "an IPv4 address A.B.C.D")? {
        let count = if mode == Mode::Dense { gen::DENSE_NEXT_HOPS } else { gen::DIVERSE_NEXT_HOPS };
        if nh.is_unspecified() || nh.is_multicast() || u32::from(nh).checked_add(count).is_none_or(|l| l >= 0xe000_0000)
        {
            return err(format!("--next-hop: {nh} and the {} addresses after it must be unicast", count - 1));
        }
        table.next_hop = nh;
    }
    table.first_as = Some(peer.asn);
    let keep = f.seconds("--keep")?;
    Ok(Command::Send(SendOptions { peer, mode, table, keep }))
}

fn receive_options(f: &mut Flags, peer: PeerConfig) -> Result<Command, UsageError> {
    let expect = f.required("--expect")?;
    let expect: usize = expect.parse().or_else(|_| err(format!("--expect: expected a number, got '{expect}'")))?;
    if expect == 0 {
        return err("--expect: must be at least 1");
    }
    let keep = f.seconds("--keep")?.unwrap_or(Duration::ZERO);
    Ok(Command::Receive(ReceiveOptions { peer, expect, keep }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Command, UsageError> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn a_full_send_line() {
        let Command::Send(s) = parse_str(
            "send --connect 127.0.40.1 --bind 127.0.40.2 --asn 4200000100 --peer-asn=4200000001 \
             --prefixes 1000 --mode diverse --hold 30 --keep 5 --next-hop 198.18.1.1",
        )
        .unwrap() else {
            panic!("not a send command")
        };
        assert_eq!(
            s.peer.endpoint,
            Endpoint::Connect { addr: "127.0.40.1:179".parse().unwrap(), bind: Some("127.0.40.2".parse().unwrap()) }
        );
        assert_eq!((s.peer.asn, s.peer.peer_asn, s.peer.hold_time), (4_200_000_100, 4_200_000_001, 30));
        assert_eq!((s.mode, s.table.sets, s.table.first_as), (Mode::Diverse, 300, Some(4_200_000_100)));
        assert_eq!(s.table.next_hop, Ipv4Addr::new(198, 18, 1, 1));
        assert_eq!(s.keep, Some(Duration::from_secs(5)));
    }

    #[test]
    fn a_receive_line_with_defaults() {
        let Command::Receive(r) =
            parse_str("receive --listen [::1]:1179 --asn 1 --peer-asn 2 --expect 10 --extended-message").unwrap()
        else {
            panic!("not a receive command")
        };
        assert_eq!(r.peer.endpoint, Endpoint::Listen("[::1]:1179".parse().unwrap()));
        assert!(r.peer.extended_message);
        assert_eq!((r.expect, r.keep, r.peer.timeout), (10, Duration::ZERO, Duration::from_secs(120)));
    }

    #[test]
    fn mistakes_name_the_flag() {
        let e = |s| parse_str(s).unwrap_err().0;
        assert!(e("send --connect 127.0.0.1 --asn 1 --peer-asn 2 --prefixes 5 --bogus 3").contains("'--bogus'"));
        assert!(e("receive --connect 127.0.0.1 --asn 1 --peer-asn 2 --expect 5 --mode dense").contains("'--mode'"));
        assert!(e("send --connect 127.0.0.1 --asn 1 --peer-asn 2").contains("--prefixes is required"));
        assert!(e("send --asn 1 --peer-asn 2 --prefixes 5").contains("--connect or --listen"));
        assert!(e("send --connect nowhere --asn 1 --peer-asn 2 --prefixes 5").contains("'nowhere'"));
        assert!(e("send --connect 127.0.0.1 --asn 1 --peer-asn 2 --prefixes 5 --hold 2").contains("--hold"));
        assert!(e("send --connect 127.0.0.1 --asn 1 --peer-asn 2 --prefixes 5 --mode sparse").contains("'sparse'"));
        assert!(e("send --connect 127.0.0.1 --asn 1 --asn 2 --peer-asn 2 --prefixes 5").contains("twice"));
        assert!(e("send --connect 127.0.0.1 --asn 1 --peer-asn 2 --prefixes").contains("needs a value"));
        assert!(e("blast").contains("'blast'"));
    }

    #[test]
    fn help_anywhere() {
        assert_eq!(parse_str("--help").unwrap(), Command::Help(None));
        assert_eq!(parse_str("help receive").unwrap(), Command::Help(Some(Role::Receive)));
        assert_eq!(parse_str("send --asn 1 -h").unwrap(), Command::Help(Some(Role::Send)));
        assert!(help(Some(Role::Send)).contains("--prefixes N"));
    }
}
