//! A span-carrying walk over the parsed TOML document, and the error list it feeds.
//!
//! The document is parsed with `toml`'s [`DeTable`], which keeps the byte span of every key
//! and value. A [`Table`] or [`Node`] is one place in that document together with its dotted
//! key (`neighbor[1].remote_asn`); its readers check the TOML type and the range of a value
//! and report a mistake to [`Errors`] with the file, line, column and key instead of
//! stopping, so that one run finds every mistake it can. Readers return `None` after
//! reporting; callers go on with the rest of the section.
//!
//! Unknown keys are reported by [`Table::check_keys`], which names the nearest valid key
//! when there is one (a typo such as `remote_as`) and lists the valid keys otherwise.

use std::fmt::Display;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::ConfigError;

/// The errors found so far, and what is needed to turn a byte offset into a line and column.
pub(super) struct Errors<'a> {
    file: &'a Path,
    text: &'a str,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    list: Vec<ConfigError>,
}

impl<'a> Errors<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Errors<'a> {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Errors { file, text, line_starts, list: Vec::new() }
    }

    /// Records a mistake at the start of `span`.
    pub fn report(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let (line, column) = self.position(span.start);
        self.list.push(ConfigError {
            file: self.file.to_path_buf(),
            line,
            column,
            key: key.to_string(),
            message: one_line(&message.into()),
        });
    }

    /// The text a span covers.
    pub fn text(&self, span: &Range<usize>) -> &'a str {
        self.text.get(span.clone()).unwrap_or("")
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text.get(start..offset).map_or(offset - start, |s| s.chars().count()) + 1;
        (line, column)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The errors in the order they appear in the file (errors at one place keep the order
    /// they were found in).
    pub fn finish(mut self) -> Vec<ConfigError> {
        self.list.sort_by_key(|e| (e.line, e.column));
        self.list.dedup();
        self.list
    }
}

/// One line per error: a multi-line message (a regex error drawing a caret under the
/// pattern) keeps its first line and the last, which says what is wrong.
fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    match lines.next_back() {
        Some(last) => format!("{first} {}", last.trim_start_matches("error: ")),
        None => first,
    }
}

/// A key as TOML reads it: bare when it can be, quoted otherwise.
pub(super) fn quote_key(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        name.to_string()
    } else {
        toml::Value::String(name.to_string()).to_string()
    }
}

/// The dotted key of `name` inside the table at `parent` (`""` for the document root).
pub(super) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        quote_key(name)
    } else {
        format!("{parent}.{}", quote_key(name))
    }
}

/// What a value is, for "expected X, found Y" messages.
pub(super) fn found(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => {
            let s: &str = s;
            if s.chars().count() > 40 {
                let short: String = s.chars().take(40).collect();
                format!("a string ({short:?}...)")
            } else {
                format!("a string ({s:?})")
            }
        }
        DeValue::Integer(i) => format!("an integer ({i})"),
        DeValue::Float(f) => format!("a float ({f})"),
        DeValue::Boolean(b) => format!("a boolean ({b})"),
        DeValue::Datetime(d) => format!("a date-time ({d})"),
        DeValue::Array(_) => "an array".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

/// One table of the document.
pub(super) struct Table<'t, 'i> {
    pub key: String,
    pub span: Range<usize>,
    pub map: &'t DeTable<'i>,
}

impl<'t, 'i> Table<'t, 'i> {
    pub fn root(doc: &'t Spanned<DeTable<'i>>) -> Table<'t, 'i> {
        Table { key: String::new(), span: doc.span(), map: doc.get_ref() }
    }

    /// Reports every key that is not in `valid`.
    pub fn check_keys(&self, e: &mut Errors, valid: &[&str]) {
        for (k, _) in self.map.iter() {
            let name: &str = k.get_ref();
            if !valid.contains(&name) {
                e.report(&k.span(), &join(&self.key, name), unknown_key(name, valid));
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<Node<'t, 'i>> {
        self.map.get(name).map(|v| Node { key: join(&self.key, name), span: v.span(), value: v.get_ref() })
    }

    /// The value of a key that must be there; reports its absence at the table, unless
    /// an unknown key of the table looks like a typo of it (which [`Table::check_keys`]
    /// reports with the valid keys `valid`).
    pub fn require(&self, e: &mut Errors, valid: &[&str], name: &str, what: &str) -> Option<Node<'t, 'i>> {
        let node = self.get(name);
        if node.is_none() && !self.misspelled(valid, name) {
            e.report(&self.span, &join(&self.key, name), format!("missing: expected {what}"));
        }
        node
    }

    /// Whether a key that is not in `valid` has `name` as its nearest valid key.
    pub fn misspelled(&self, valid: &[&str], name: &str) -> bool {
        self.map.iter().any(|(k, _)| {
            let k: &str = k.get_ref();
            !valid.contains(&k) && nearest(k, valid) == Some(name)
        })
    }

    /// Every key, with its span, and its value.
    pub fn entries(&self) -> impl Iterator<Item = (&'t str, Range<usize>, Node<'t, 'i>)> + '_ {
        self.map.iter().map(|(k, v)| {
            let name: &'t str = k.get_ref();
            (name, k.span(), Node { key: join(&self.key, name), span: v.span(), value: v.get_ref() })
        })
    }
}

/// One value of the document.
#[derive(Clone)]
pub(super) struct Node<'t, 'i> {
    pub key: String,
    pub span: Range<usize>,
    pub value: &'t DeValue<'i>,
}

impl<'t, 'i> Node<'t, 'i> {
    /// Reports `message` at this value.
    pub fn fail<T>(&self, e: &mut Errors, message: impl Into<String>) -> Option<T> {
        e.report(&self.span, &self.key, message);
        None
    }

    fn wrong_type<T>(&self, e: &mut Errors, what: &str) -> Option<T> {
        self.fail(e, format!("expected {what}, found {}", found(self.value)))
    }

    pub fn table(&self, e: &mut Errors, what: &str) -> Option<Table<'t, 'i>> {
        match self.value {
            DeValue::Table(map) => Some(Table { key: self.key.clone(), span: self.span.clone(), map }),
            _ => self.wrong_type(e, what),
        }
    }

    pub fn str(&self, e: &mut Errors, what: &str) -> Option<&'t str> {
        match self.value {
            DeValue::String(s) => Some(s),
            _ => self.wrong_type(e, what),
        }
    }

    pub fn bool(&self, e: &mut Errors) -> Option<bool> {
        match self.value {
            DeValue::Boolean(b) => Some(*b),
            _ => self.wrong_type(e, "true or false"),
        }
    }

    /// An integer from `lo` to `hi`.
    pub fn int<T>(&self, e: &mut Errors, lo: T, hi: T) -> Option<T>
    where
        T: Copy + Display + Into<i128> + TryFrom<i128>,
    {
        self.int_as(e, lo, hi, &format!("an integer from {lo} to {hi}"))
    }

    /// An integer from `lo` to `hi`, described as `what` in messages.
    pub fn int_as<T>(&self, e: &mut Errors, lo: T, hi: T, what: &str) -> Option<T>
    where
        T: Copy + Display + Into<i128> + TryFrom<i128>,
    {
        let DeValue::Integer(i) = self.value else {
            return self.wrong_type(e, what);
        };
        let n = i128::from_str_radix(i.as_str(), i.radix()).ok();
        match n.filter(|n| (lo.into()..=hi.into()).contains(n)).and_then(|n| T::try_from(n).ok()) {
            Some(v) => Some(v),
            None => self.fail(e, format!("{i} is out of range: expected {what}")),
        }
    }

    /// A string that `parse` turns into a value; its error message is reported as it is.
    pub fn parse<T>(&self, e: &mut Errors, what: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let text = self.str(e, what)?;
        match parse(text) {
            Ok(v) => Some(v),
            Err(m) => self.fail(e, m),
        }
    }

    /// The elements of an array, each with its own key (`families[1]`); a single value
    /// that is not an array counts as a list of one when `single` is set.
    pub fn items(&self, e: &mut Errors, what: &str, single: bool) -> Option<Vec<Node<'t, 'i>>> {
        match self.value {
            DeValue::Array(a) => Some(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| Node { key: format!("{}[{i}]", self.key), span: v.span(), value: v.get_ref() })
                    .collect(),
            ),
            DeValue::Table(_) => self.wrong_type(e, what),
            _ if single => Some(vec![self.clone()]),
            _ => self.wrong_type(e, what),
        }
    }

    /// A list whose elements `each` reads; `None` when any of them is wrong (all are read
    /// and reported).
    pub fn list<T>(
        &self,
        e: &mut Errors,
        what: &str,
        mut each: impl FnMut(&Node<'t, 'i>, &mut Errors) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = self.items(e, what, true)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in &items {
            match each(item, e) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// The tables of an array of tables (`[[neighbor]]`).
    pub fn tables(&self, e: &mut Errors, what: &str) -> Vec<Table<'t, 'i>> {
        let Some(items) = self.items(e, what, false) else {
            return Vec::new();
        };
        items.iter().filter_map(|n| n.table(e, "a table")).collect()
    }
}

/// The message for an unknown key: the nearest valid key, or the list of them.
pub(super) fn unknown_key(name: &str, valid: &[&str]) -> String {
    match nearest(name, valid) {
        Some(v) => format!("unknown key; did you mean \"{v}\"?"),
        None => format!("unknown key; expected one of: {}", valid.join(", ")),
    }
}

/// The candidate `name` is most likely a typo of: a few edits away, or a prefix.
pub(super) fn nearest<'v>(name: &str, candidates: &[&'v str]) -> Option<&'v str> {
    candidates
        .iter()
        .map(|v| (distance(name, v), *v))
        .filter(|&(d, v)| d <= 2.max(v.len() / 4) || (name.len() >= 3 && (v.starts_with(name) || name.starts_with(v))))
        .min_by_key(|&(d, _)| d)
        .map(|(_, v)| v)
}

/// The Levenshtein distance between two strings.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let e = Errors::new(Path::new("f"), text);
        assert_eq!(e.position(0), (1, 1));
        assert_eq!(e.position(4), (1, 5));
        assert_eq!(e.position(6), (2, 1));
        // After the two-byte é.
        assert_eq!(e.position(9), (2, 3));
        assert_eq!(e.position(text.len()), (3, 1));
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("remote_as", "remote_asn"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn unknown_keys_suggest_the_nearest() {
        let valid = ["address", "remote_asn", "port"];
        assert_eq!(unknown_key("remote_as", &valid), "unknown key; did you mean \"remote_asn\"?");
        assert_eq!(unknown_key("adress", &valid), "unknown key; did you mean \"address\"?");
        assert_eq!(unknown_key("colour", &valid), "unknown key; expected one of: address, remote_asn, port");
    }
}
