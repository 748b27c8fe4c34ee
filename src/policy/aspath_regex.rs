//! AS_PATH regular expressions in the Cisco / FRR dialect.
//!
//! The path is matched as text, rendered the way `ternctl` prints it (the `Display` of
//! [`AsPath`], see [`render_as_path`]): AS numbers separated by spaces, an AS_SET in braces, an AS_CONFED_SEQUENCE
//! in parentheses and an AS_CONFED_SET in brackets, e.g. `65001 65002 {65003 65004}`. An
//! empty (or absent) path is the empty string.
//!
//! The pattern is an ordinary regular expression plus one operator: `_` (outside a bracket
//! class) matches a boundary between AS numbers: the start or end of the text, a space, a
//! comma or a brace, parenthesis or bracket. So `^65001_` is "learned from 65001",
//! `_65002$` is "originated by 65002", `_65001_` is "passes through 65001" (and does not
//! match `165001`), and `^$` is "originated in our own AS". A pattern without `_` or
//! anchors matches anywhere: `6500` matches `65001`, as on Cisco and FRR.
//!
//! Matching uses the `regex` crate, which guarantees time linear in the text whatever the
//! pattern (no backtracking blow-up from an operator's pattern) and bounds the compiled size.
//! It runs byte-oriented without Unicode tables: the text is ASCII, and `\d` means `[0-9]`.
//!
//! Cost: a pattern is compiled once, when the policy is built. Evaluation renders the path
//! into a per-thread buffer that is reused (no allocation once warm), at most once per
//! evaluation and again only after a Prepend action changed the path, and only when a rule
//! whose other conditions hold has a regex; policies without a regex never render anything.

use std::cell::Cell;
use std::fmt;

use regex::bytes::{Regex, RegexBuilder};

use crate::wire::{AsPath, SegmentKind};

/// Bound on a compiled pattern and on its lazy DFA cache, so that one pattern in the
/// configuration cannot take a small host's memory.
const SIZE_LIMIT: usize = 1 << 20;

/// What `_` becomes: a boundary between AS numbers.
const BOUNDARY: &str = r"(?:^|[ ,{}()\[\]]|$)";

/// A compiled AS-path regular expression; compares equal by its source text.
#[derive(Clone)]
pub struct AsPathRegex {
    source: String,
    regex: Regex,
}

impl AsPathRegex {
    /// Compiles a Cisco / FRR style pattern. Errors quote the pattern and point into it
    /// as written (before `_` is translated).
    pub fn new(pattern: &str) -> Result<AsPathRegex, String> {
        let build =
            |p: &str| RegexBuilder::new(p).unicode(false).size_limit(SIZE_LIMIT).dfa_size_limit(SIZE_LIMIT).build();
        // `_` is a literal in the regex syntax, so the pattern as written checks the syntax
        // with error positions that match what the operator typed.
        build(pattern).map_err(|e| format!("invalid AS path regex {pattern:?}: {e}"))?;
        let regex = build(&translate(pattern)).map_err(|e| format!("invalid AS path regex {pattern:?}: {e}"))?;
        Ok(AsPathRegex { source: pattern.to_string(), regex })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Matches a path rendered by [`render_as_path`].
    pub fn is_match_text(&self, rendered: &str) -> bool {
        self.regex.is_match(rendered.as_bytes())
    }

    /// Matches a path; renders it into a fresh string (for tools and tests: evaluation
    /// reuses a buffer instead).
    pub fn is_match(&self, path: Option<&AsPath>) -> bool {
        let mut text = String::new();
        render_as_path(path, &mut text);
        self.is_match_text(&text)
    }
}

/// Replaces each `_` outside a bracket class by [`BOUNDARY`].
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut class = 0usize; // nesting depth of `[...]`
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
                continue;
            }
            '[' => {
                class += 1;
                out.push(c);
                // `[]` and `[^]` open a class whose first member is a literal `]`.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap_or(']'));
                }
                continue;
            }
            ']' if class > 0 => class -= 1,
            '_' if class == 0 => {
                out.push_str(BOUNDARY);
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Renders a path as the regex sees it, replacing `out`: the same text as the `Display` of
/// [`AsPath`], written without the formatting machinery (several times faster, and this
/// runs once per evaluated route when a policy uses a regex).
pub fn render_as_path(path: Option<&AsPath>, out: &mut String) {
    out.clear();
    let Some(path) = path else { return };
    for (i, s) in path.segments().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let (open, close) = match s.kind {
            SegmentKind::Sequence => (None, None),
            SegmentKind::Set => (Some('{'), Some('}')),
            SegmentKind::ConfedSequence => (Some('('), Some(')')),
            SegmentKind::ConfedSet => (Some('['), Some(']')),
        };
        out.extend(open);
        for (j, &asn) in s.asns.iter().enumerate() {
            if j > 0 {
                out.push(' ');
            }
            push_decimal(out, asn);
        }
        out.extend(close);
    }
}

fn push_decimal(out: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

impl PartialEq for AsPathRegex {
    fn eq(&self, other: &AsPathRegex) -> bool {
        self.source == other.source
    }
}

impl Eq for AsPathRegex {}

impl fmt::Debug for AsPathRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AsPathRegex").field(&self.source).finish()
    }
}

impl fmt::Display for AsPathRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

thread_local! {
    /// The rendering buffer evaluation borrows; taken out while in use, so a nested
    /// evaluation on the same thread (none today) would just start a buffer of its own.
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// The rendered path of the route under evaluation, rendered on first use.
pub(crate) struct PathText {
    buf: Option<String>,
    valid: bool,
}

impl PathText {
    pub(crate) fn new() -> PathText {
        PathText { buf: None, valid: false }
    }

    /// The path's text, rendered now unless it already is.
    pub(crate) fn get(&mut self, path: Option<&AsPath>) -> &str {
        let valid = self.valid;
        let buf = self.buf.get_or_insert_with(|| SCRATCH.with(Cell::take));
        if !valid {
            render_as_path(path, buf);
            self.valid = true;
        }
        buf
    }

    /// The path changed: render it again when next needed.
    pub(crate) fn invalidate(&mut self) {
        self.valid = false;
    }
}

impl Drop for PathText {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            SCRATCH.with(|s| s.set(buf));
        }
    }
}
