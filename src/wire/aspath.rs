//! AS_PATH and AS4_PATH (RFC 4271 §4.3, RFC 5065 for confederation segments, RFC 6793 for
//! 4-octet AS numbers).
//!
//! Between two 4-octet speakers AS numbers are 4 octets. Towards a 2-octet speaker, AS_PATH
//! carries 2-octet numbers with AS_TRANS standing in for the large ones, and AS4_PATH carries
//! the real path (without confederation segments); [`AsPath::merge_as4`] rebuilds the real
//! path from the two on receipt (RFC 6793 §4.2.3).

use super::reader::{Put, Reader};
use super::AS_TRANS;

pub const AS_SET: u8 = 1;
pub const AS_SEQUENCE: u8 = 2;
pub const AS_CONFED_SEQUENCE: u8 = 3;
pub const AS_CONFED_SET: u8 = 4;

/// Most AS numbers one segment can hold (its length field is one octet).
const MAX_SEGMENT: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SegmentKind {
    Set = AS_SET,
    Sequence = AS_SEQUENCE,
    ConfedSequence = AS_CONFED_SEQUENCE,
    ConfedSet = AS_CONFED_SET,
}

impl SegmentKind {
    pub fn from_u8(v: u8) -> Option<SegmentKind> {
        Some(match v {
            AS_SET => SegmentKind::Set,
            AS_SEQUENCE => SegmentKind::Sequence,
            AS_CONFED_SEQUENCE => SegmentKind::ConfedSequence,
            AS_CONFED_SET => SegmentKind::ConfedSet,
            _ => return None,
        })
    }

    pub fn is_confed(self) -> bool {
        matches!(self, SegmentKind::ConfedSequence | SegmentKind::ConfedSet)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Segment {
    pub kind: SegmentKind,
    pub asns: Vec<u32>,
}

/// A segment of a path, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentRef<'a> {
    pub kind: SegmentKind,
    pub asns: &'a [u32],
}

impl SegmentRef<'_> {
    pub fn to_owned(self) -> Segment {
        Segment { kind: self.kind, asns: self.asns.to_vec() }
    }
}

/// AS numbers a path of one AS_SEQUENCE keeps inline, without an allocation.
const INLINE: usize = 7;

/// An AS path: segments in order, the nearest AS first.
///
/// Almost every path is one AS_SEQUENCE of a few AS numbers; such a path (and the empty
/// one) is kept inline in 32 octets, with no allocation to make, copy or free. Any other
/// path keeps its segments on the heap. The form is canonical (a path that fits inline is
/// always inline), so the derived equality and hash compare values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AsPath(Repr);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// One AS_SEQUENCE of `len` numbers, `len` at most [`INLINE`] (0: the empty path);
    /// the unused slots are zero.
    Short { len: u8, asns: [u32; INLINE] },
    /// Anything else.
    Long(Vec<Segment>),
}

impl Default for AsPath {
    fn default() -> AsPath {
        AsPath(Repr::Short { len: 0, asns: [0; INLINE] })
    }
}

impl AsPath {
    pub fn empty() -> AsPath {
        AsPath::default()
    }

    /// A path of one AS_SEQUENCE.
    pub fn sequence(asns: impl IntoIterator<Item = u32>) -> AsPath {
        let asns: Vec<u32> = asns.into_iter().collect();
        if asns.is_empty() {
            return AsPath::empty();
        }
        AsPath::from_segments(vec![Segment { kind: SegmentKind::Sequence, asns }])
    }

    /// A path of these segments, as they are (empty segments dropped).
    pub fn from_segments(mut segments: Vec<Segment>) -> AsPath {
        segments.retain(|s| !s.asns.is_empty());
        match segments.as_slice() {
            [] => AsPath::empty(),
            [s] if s.kind == SegmentKind::Sequence && s.asns.len() <= INLINE => AsPath::short(&s.asns),
            _ => AsPath(Repr::Long(segments)),
        }
    }

    fn short(asns: &[u32]) -> AsPath {
        let mut inline = [0; INLINE];
        inline[..asns.len()].copy_from_slice(asns);
        AsPath(Repr::Short { len: asns.len() as u8, asns: inline })
    }

    /// The segments, in order.
    pub fn segments(&self) -> impl DoubleEndedIterator<Item = SegmentRef<'_>> + Clone {
        let (short, long) = match &self.0 {
            Repr::Short { len: 0, .. } => (None, None),
            Repr::Short { len, asns } => {
                (Some(SegmentRef { kind: SegmentKind::Sequence, asns: &asns[..usize::from(*len)] }), None)
            }
            Repr::Long(segments) => (None, Some(segments.iter().map(|s| SegmentRef { kind: s.kind, asns: &s.asns }))),
        };
        short.into_iter().chain(long.into_iter().flatten())
    }

    /// The segments as owned values.
    pub fn to_segments(&self) -> Vec<Segment> {
        self.segments().map(SegmentRef::to_owned).collect()
    }

    /// Appends a segment (tests and builders; a path from the wire comes from `decode`).
    pub fn push_segment(&mut self, kind: SegmentKind, asns: Vec<u32>) {
        let mut segments = self.to_segments();
        segments.push(Segment { kind, asns });
        *self = AsPath::from_segments(segments);
    }

    pub fn is_empty(&self) -> bool {
        matches!(self.0, Repr::Short { len: 0, .. })
    }

    /// Path length for best-path selection (RFC 4271 §9.1.2.2 a): each AS of a sequence
    /// counts one, an AS_SET counts one, confederation segments count nothing (RFC 5065 §5.3).
    pub fn path_len(&self) -> usize {
        self.segments()
            .map(|s| match s.kind {
                SegmentKind::Sequence => s.asns.len(),
                SegmentKind::Set => 1,
                SegmentKind::ConfedSequence | SegmentKind::ConfedSet => 0,
            })
            .sum()
    }

    /// The first AS of the path (the neighbor that sent it), if it starts with a sequence.
    pub fn first_as(&self) -> Option<u32> {
        let s = self.segments().next()?;
        (s.kind == SegmentKind::Sequence).then(|| s.asns.first().copied()).flatten()
    }

    /// The originating AS: the last AS of the path when it ends with a sequence.
    pub fn origin_as(&self) -> Option<u32> {
        let s = self.segments().next_back()?;
        (s.kind == SegmentKind::Sequence).then(|| s.asns.last().copied()).flatten()
    }

    pub fn contains(&self, asn: u32) -> bool {
        self.segments().any(|s| s.asns.contains(&asn))
    }

    /// Whether any AS number needs 4 octets.
    pub fn has_four_octet(&self) -> bool {
        self.segments().any(|s| s.asns.iter().any(|&a| a > 0xffff))
    }

    /// Prepends `asn` `count` times to the leading sequence (starting one when needed).
    pub fn prepend(&mut self, asn: u32, count: usize) {
        if let Repr::Short { len, asns } = &mut self.0 {
            let n = usize::from(*len);
            if n + count <= INLINE {
                asns.copy_within(..n, count);
                asns[..count].fill(asn);
                *len = (n + count) as u8;
                return;
            }
        }
        let mut segments = match std::mem::take(self).0 {
            Repr::Long(segments) => segments,
            short @ Repr::Short { .. } => AsPath(short).to_segments(),
        };
        match segments.first_mut() {
            Some(s) if s.kind == SegmentKind::Sequence && s.asns.len() + count <= MAX_SEGMENT => {
                // Built at its final size: one allocation, not a copy and then a grow.
                let mut asns = Vec::with_capacity(s.asns.len() + count);
                asns.extend(std::iter::repeat_n(asn, count));
                asns.extend_from_slice(&s.asns);
                s.asns = asns;
            }
            _ => segments.insert(0, Segment { kind: SegmentKind::Sequence, asns: vec![asn; count] }),
        }
        *self = AsPath::from_segments(segments);
    }

    /// Decodes an AS_PATH or AS4_PATH value with AS numbers of `width` (2 or 4) octets.
    /// `None` when malformed (RFC 7606 §7.2): unknown segment type, a segment of length 0,
    /// a segment that overruns the attribute, or a lone octet left at the end.
    pub fn decode(value: &[u8], width: usize) -> Option<AsPath> {
        let as_number = |c: &[u8]| {
            if width == 4 {
                u32::from_be_bytes([c[0], c[1], c[2], c[3]])
            } else {
                u32::from(u16::from_be_bytes([c[0], c[1]]))
            }
        };
        // The common case, one short sequence: straight into the inline form.
        if let [AS_SEQUENCE, count, raw @ ..] = value {
            let count = usize::from(*count);
            if count != 0 && count <= INLINE && raw.len() == count * width {
                let mut asns = [0; INLINE];
                for (slot, c) in asns.iter_mut().zip(raw.chunks_exact(width)) {
                    *slot = as_number(c);
                }
                return Some(AsPath(Repr::Short { len: count as u8, asns }));
            }
        }
        let mut r = Reader::new(value);
        let mut segments = Vec::new();
        while !r.is_empty() {
            let kind = SegmentKind::from_u8(r.u8()?)?;
            let count = usize::from(r.u8()?);
            if count == 0 {
                return None;
            }
            let raw = r.take(count * width)?;
            segments.push(Segment { kind, asns: raw.chunks_exact(width).map(as_number).collect() });
        }
        Some(AsPath::from_segments(segments))
    }

    /// Appends the attribute value with 4-octet AS numbers, or with 2-octet ones where
    /// numbers above 65535 become AS_TRANS. Segments longer than 255 are split.
    pub fn encode(&self, four_octet: bool, out: &mut Vec<u8>) {
        for s in self.segments() {
            for chunk in s.asns.chunks(MAX_SEGMENT) {
                out.put_u8(s.kind as u8);
                out.put_u8(chunk.len() as u8);
                for &asn in chunk {
                    if four_octet {
                        out.put_u32(asn);
                    } else {
                        out.put_u16(u16::try_from(asn).unwrap_or(AS_TRANS as u16));
                    }
                }
            }
        }
    }

    /// Octets `encode` writes.
    pub fn encoded_len(&self, four_octet: bool) -> usize {
        let width = if four_octet { 4 } else { 2 };
        self.segments().map(|s| s.asns.len().div_ceil(MAX_SEGMENT) * 2 + s.asns.len() * width).sum()
    }

    /// The AS4_PATH to send beside this AS_PATH to a 2-octet speaker: the path without its
    /// confederation segments (RFC 6793 §4.2.2).
    pub fn as4_part(&self) -> AsPath {
        match &self.0 {
            Repr::Short { .. } => self.clone(),
            Repr::Long(_) => AsPath::from_segments(
                self.segments().filter(|s| !s.kind.is_confed()).map(SegmentRef::to_owned).collect(),
            ),
        }
    }

    /// Rebuilds the real path from a 2-octet AS_PATH (`self`) and the AS4_PATH received with
    /// it (RFC 6793 §4.2.3). When AS_PATH is shorter than AS4_PATH, AS4_PATH is ignored.
    /// Otherwise the leading AS numbers of AS_PATH that AS4_PATH lacks (and any leading
    /// confederation segments) are put in front of AS4_PATH.
    pub fn merge_as4(&self, as4: &AsPath) -> AsPath {
        let as4_len = as4.path_len();
        let Some(mut keep) = self.path_len().checked_sub(as4_len) else {
            return self.clone();
        };
        let mut segments = Vec::new();
        for s in self.segments() {
            match s.kind {
                SegmentKind::ConfedSequence | SegmentKind::ConfedSet => segments.push(s.to_owned()),
                _ if keep == 0 => break,
                SegmentKind::Set => {
                    segments.push(s.to_owned());
                    keep -= 1;
                }
                SegmentKind::Sequence => {
                    let n = keep.min(s.asns.len());
                    segments.push(Segment { kind: s.kind, asns: s.asns[..n].to_vec() });
                    keep -= n;
                }
            }
        }
        // A leading sequence cut short joins the sequence AS4_PATH starts with.
        let mut rest = as4.segments().filter(|s| !s.kind.is_confed()).map(SegmentRef::to_owned);
        if let (Some(last), Some(first)) = (segments.last_mut(), as4.segments().next()) {
            if last.kind == SegmentKind::Sequence
                && first.kind == SegmentKind::Sequence
                && last.asns.len() + first.asns.len() <= MAX_SEGMENT
            {
                last.asns.extend_from_slice(first.asns);
                rest.next();
            }
        }
        segments.extend(rest);
        AsPath::from_segments(segments)
    }
}

impl std::fmt::Display for AsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for s in self.segments() {
            if !first {
                write!(f, " ")?;
            }
            first = false;
            let (open, close) = match s.kind {
                SegmentKind::Sequence => ("", ""),
                SegmentKind::Set => ("{", "}"),
                SegmentKind::ConfedSequence => ("(", ")"),
                SegmentKind::ConfedSet => ("[", "]"),
            };
            write!(f, "{open}")?;
            for (i, asn) in s.asns.iter().enumerate() {
                write!(f, "{}{asn}", if i == 0 { "" } else { " " })?;
            }
            write!(f, "{close}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(kind: SegmentKind, asns: &[u32]) -> Segment {
        Segment { kind, asns: asns.to_vec() }
    }

    #[test]
    fn malformed_paths_are_refused() {
        assert!(AsPath::decode(&[2, 0], 4).is_none(), "zero-length segment");
        assert!(AsPath::decode(&[2, 2, 0, 0, 0, 1], 4).is_none(), "overrun");
        assert!(AsPath::decode(&[2, 1, 0, 0, 0, 1, 2], 4).is_none(), "lone octet");
        assert!(AsPath::decode(&[5, 1, 0, 0, 0, 1], 4).is_none(), "unknown type");
        assert_eq!(AsPath::decode(&[], 4), Some(AsPath::empty()));
    }

    #[test]
    fn path_length_counts_sets_once_and_confeds_not_at_all() {
        let p = AsPath::from_segments(vec![
            seg(SegmentKind::ConfedSequence, &[1, 2]),
            seg(SegmentKind::Sequence, &[3, 4]),
            seg(SegmentKind::Set, &[5, 6, 7]),
        ]);
        assert_eq!(p.path_len(), 3);
        assert_eq!(p.to_string(), "(1 2) 3 4 {5 6 7}");
        assert_eq!(p.origin_as(), None);
        assert_eq!(p.first_as(), None);
    }

    #[test]
    fn two_octet_encoding_uses_as_trans() {
        let p = AsPath::sequence([65001, 4200000001]);
        let mut out = Vec::new();
        p.encode(false, &mut out);
        assert_eq!(out, [2, 2, 0xfd, 0xe9, 0x5b, 0xa0]);
        assert_eq!(out.len(), p.encoded_len(false));
    }

    #[test]
    fn as4_merge_follows_rfc6793() {
        // Old speakers 65010 and 65020 prepended to a path of 4-octet speakers.
        let as_path = AsPath::sequence([65010, 65020, 23456, 23456]);
        let as4 = AsPath::sequence([4200000001, 4200000002]);
        assert_eq!(as_path.merge_as4(&as4), AsPath::sequence([65010, 65020, 4200000001, 4200000002]));
        // AS4_PATH longer than AS_PATH: ignored.
        let short = AsPath::sequence([23456]);
        assert_eq!(short.merge_as4(&as4), short);
        // Leading confederation segments survive.
        let confed = AsPath::from_segments(vec![
            seg(SegmentKind::ConfedSequence, &[64512]),
            seg(SegmentKind::Sequence, &[23456]),
        ]);
        let merged = confed.merge_as4(&AsPath::sequence([4200000001]));
        assert_eq!(
            merged.to_segments(),
            vec![seg(SegmentKind::ConfedSequence, &[64512]), seg(SegmentKind::Sequence, &[4200000001])]
        );
    }

    #[test]
    fn long_sequences_are_split_and_prepend_extends_the_head() {
        let p = AsPath::sequence(1..=300);
        let mut out = Vec::new();
        p.encode(true, &mut out);
        assert_eq!(out.len(), p.encoded_len(true));
        let back = AsPath::decode(&out, 4).unwrap();
        assert_eq!(back.segments().count(), 2);
        assert_eq!(back.path_len(), 300);
        let mut q = AsPath::sequence([2]);
        q.prepend(1, 2);
        assert_eq!(q, AsPath::sequence([1, 1, 2]));
    }

    #[test]
    fn short_paths_are_inline_and_the_form_is_canonical() {
        assert_eq!(std::mem::size_of::<AsPath>(), 32);
        assert_eq!(std::mem::size_of::<Option<AsPath>>(), 32);
        // Inline up to INLINE numbers, whichever way the path was made.
        let mut p = AsPath::sequence([5]);
        p.prepend(4, 3);
        assert!(matches!(p.0, Repr::Short { len: 4, .. }));
        assert_eq!(p, AsPath::sequence([4, 4, 4, 5]));
        assert_eq!(p, AsPath::decode(&[2, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 5], 4).unwrap());
        // Growing past it moves to the heap, with the same value.
        p.prepend(3, 4);
        assert!(matches!(p.0, Repr::Long(_)));
        assert_eq!(p, AsPath::sequence([3, 3, 3, 3, 4, 4, 4, 5]));
        assert_eq!(p.to_string(), "3 3 3 3 4 4 4 5");
        // A sequence of two segments that would fit inline stays two segments.
        let two = AsPath::decode(&[2, 1, 0, 1, 2, 1, 0, 2], 2).unwrap();
        assert_eq!(two.segments().count(), 2);
        assert_ne!(two, AsPath::sequence([1, 2]));
        let mut out = Vec::new();
        two.encode(false, &mut out);
        assert_eq!(out, [2, 1, 0, 1, 2, 1, 0, 2], "segments go out as they came");
        // Round trips of each form, and the empty path.
        for path in [AsPath::empty(), AsPath::sequence([1, 2, 3]), AsPath::sequence(1..=8), two] {
            let mut out = Vec::new();
            path.encode(true, &mut out);
            assert_eq!(AsPath::decode(&out, 4).unwrap(), path);
            assert_eq!(AsPath::from_segments(path.to_segments()), path);
        }
        let mut set = AsPath::sequence([1]);
        set.push_segment(SegmentKind::Set, vec![2, 3]);
        assert_eq!(set.to_string(), "1 {2 3}");
        assert_eq!((set.path_len(), set.first_as(), set.origin_as()), (2, Some(1), None));
    }
}
