//! Records as the evaluator sees them: JSON borrowed from the input.
//!
//! A bulk line is read once into a [`Doc`] whose strings are slices of the line (copied only
//! when they hold escapes) and whose objects are vectors, so reading a user costs no hashing
//! and almost no allocation; fields the mapping never reads are validated and dropped.
//! The library API's `serde_json::Value` records are viewed the same way without copying.

mod error;
mod parse;
pub(crate) mod special;

pub use error::{EntryError, RecordError};
pub use parse::{check_depth, not_an_object, read, read_fields, Fields, Positions, Reading};

use serde_json::Value as Json;
use std::borrow::Cow;

/// A JSON value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` (evaluated as a float, as Expr does; kept for printing).
    Uint(u64),
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Doc<'a>>),
    Object(Obj<'a>),
}

/// A JSON object: entries in input order, each key once (its first position, its last value,
/// as `serde_json` keeps them).
#[derive(Debug, Clone, Default)]
pub struct Obj<'a> {
    entries: Vec<(Cow<'a, str>, Doc<'a>)>,
    /// For objects too large to scan: a hostile record with a million keys must not make each
    /// lookup linear.
    index: Option<Index>,
}

impl PartialEq for Obj<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

/// Objects up to this size are searched by scanning.
pub(super) const SCAN: usize = 16;

/// A hash table of an object's entries: open addressing with linear probing over a power of
/// two of slots, at most half full, each holding an entry's position + 1 (0: empty). Keys are
/// hashed by foldhash (hashbrown's default) with seeds drawn once per process from the
/// operating system, so a record cannot be written to make its keys collide. A lookup hashes
/// the key once and compares it with one entry or two, where the binary search it replaced
/// compared about six (and SipHash, std's DoS-resistant hash, cost 100 instructions more a
/// lookup than foldhash: BENCHMARKS.md).
#[derive(Debug, Clone)]
struct Index(Box<[u32]>);

/// The hash a large object's index files `key` under, for [`Obj::find_hashed`]: the same for
/// the life of the process, so a key known in advance (a mapping's field) is hashed once.
pub fn key_hash(key: &str) -> u64 {
    Index::hash(key)
}

impl Index {
    /// The table's size in bytes for `n` entries (what reading a record charges for it).
    pub(super) fn bytes(n: usize) -> usize {
        Index::slots(n).saturating_mul(size_of::<u32>())
    }

    fn slots(n: usize) -> usize {
        n.saturating_mul(2).next_power_of_two()
    }

    fn hash(key: &str) -> u64 {
        use foldhash::{fast::SeedableRandomState, SharedSeed};
        use std::hash::BuildHasher;
        use std::sync::OnceLock;
        // Both of foldhash's seeds from the operating system's randomness (through std's
        // SipHash keys), rather than from foldhash's own (addresses, ASLR).
        static SHARED: OnceLock<SharedSeed> = OnceLock::new();
        static STATE: OnceLock<SeedableRandomState> = OnceLock::new();
        let random = || std::collections::hash_map::RandomState::new().hash_one(0u64);
        STATE
            .get_or_init(|| {
                let shared = SHARED.get_or_init(|| SharedSeed::from_u64(random()));
                SeedableRandomState::with_seed(random(), shared)
            })
            .hash_one(key)
    }

    /// The index of `entries`, and the pairs of positions (first, later) whose keys repeat.
    fn build<T>(entries: &[(Cow<'_, str>, T)]) -> (Index, Vec<(usize, usize)>) {
        let mut slots = vec![0u32; Index::slots(entries.len())].into_boxed_slice();
        let mask = slots.len() - 1;
        let mut repeats = Vec::new();
        for (i, (key, _)) in entries.iter().enumerate() {
            let mut at = Index::hash(key) as usize & mask;
            loop {
                match slots[at] {
                    0 => {
                        slots[at] = i as u32 + 1;
                        break;
                    }
                    e if same_key(entries[e as usize - 1].0.as_bytes(), key.as_bytes()) => {
                        repeats.push((e as usize - 1, i));
                        break;
                    }
                    _ => at = (at + 1) & mask,
                }
            }
        }
        (Index(slots), repeats)
    }

    fn find<T>(&self, entries: &[(Cow<'_, str>, T)], key: &str, hash: u64) -> Option<usize> {
        let mask = self.0.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let e = (*self.0.get(at)? as usize).checked_sub(1)?;
            if same_key(entries.get(e)?.0.as_bytes(), key.as_bytes()) {
                return Some(e);
            }
            at = (at + 1) & mask;
        }
    }
}

impl<'a> Obj<'a> {
    /// Builds an object from entries in input order, resolving duplicate keys.
    pub fn new(mut entries: Vec<(Cow<'a, str>, Doc<'a>)>) -> Obj<'a> {
        if entries.len() <= SCAN {
            // Quadratic, but on at most SCAN entries; the common case finds no duplicate.
            let mut i = 1;
            while i < entries.len() {
                match entries[..i].iter().position(|(k, _)| *k == entries[i].0) {
                    Some(first) => {
                        let (_, value) = entries.remove(i);
                        entries[first].1 = value;
                    }
                    None => i += 1,
                }
            }
            return Obj {
                entries,
                index: None,
            };
        }
        let (index, repeats) = Index::build(&entries);
        if repeats.is_empty() {
            return Obj {
                entries,
                index: Some(index),
            };
        }
        // In input order: the last value of a key is the one kept, at its first position.
        let mut dropped = vec![false; entries.len()];
        for (first, later) in repeats {
            entries[first].1 = std::mem::replace(&mut entries[later].1, Doc::Null);
            dropped[later] = true;
        }
        let mut i = 0;
        entries.retain(|_| {
            i += 1;
            !dropped[i - 1]
        });
        Obj::new_unique(entries)
    }

    /// Entries whose keys are known to be distinct.
    fn new_unique(entries: Vec<(Cow<'a, str>, Doc<'a>)>) -> Obj<'a> {
        let index = (entries.len() > SCAN).then(|| Index::build(&entries).0);
        Obj { entries, index }
    }

    pub fn get(&self, key: &str) -> Option<&Doc<'a>> {
        self.find(key).map(|(_, v)| v)
    }

    /// The value of `key` if it is the key at position `i` (a guess), without a search.
    #[inline]
    pub fn get_at(&self, i: usize, key: &str) -> Option<&Doc<'a>> {
        self.entries
            .get(i)
            .filter(|(k, _)| same_key(k.as_bytes(), key.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The position (input order) of `key`, and its value.
    pub fn find(&self, key: &str) -> Option<(usize, &Doc<'a>)> {
        self.find_hashed(key, || Index::hash(key))
    }

    /// [`find`](Self::find) with the key's [`key_hash`], asked for only by a large object.
    pub fn find_hashed(&self, key: &str, hash: impl FnOnce() -> u64) -> Option<(usize, &Doc<'a>)> {
        let at = match &self.index {
            None => self
                .entries
                .iter()
                .position(|(k, _)| same_key(k.as_bytes(), key.as_bytes()))?,
            Some(index) => index.find(&self.entries, key, hash())?,
        };
        self.entries.get(at).map(|(_, v)| (at, v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entry at position `i` in input order.
    pub fn entry(&self, i: usize) -> Option<(&str, &Doc<'a>)> {
        self.entries.get(i).map(|(k, v)| (&**k, v))
    }

    /// Entries in input order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Doc<'a>)> + '_ {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// A `serde_json` object viewed without copying strings; with `fields`, only those keys.
    pub fn from_json(map: &'a serde_json::Map<String, Json>, fields: Option<&[String]>) -> Obj<'a> {
        Obj::new_unique(
            map.iter()
                .filter(|(k, _)| fields.is_none_or(|f| f.iter().any(|w| w == *k)))
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Doc::from_json(v)))
                .collect(),
        )
    }

    pub fn to_json(&self) -> serde_json::Map<String, Json> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_json()))
            .collect()
    }
}

/// `a == b` for keys (and the constants compared with fields): a field name is short, so
/// its bytes are compared in at most two overlapping words, not by a call to `memcmp`.
#[inline]
pub(crate) fn same_key(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_ne_bytes)
    };
    let half = |s: &[u8], at: usize| {
        s.get(at..at + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map(u32::from_ne_bytes)
    };
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

impl<'a> Doc<'a> {
    /// A `serde_json` value viewed without copying strings.
    pub fn from_json(v: &'a Json) -> Doc<'a> {
        match v {
            Json::Null => Doc::Null,
            Json::Bool(b) => Doc::Bool(*b),
            Json::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Doc::Int(i),
                (None, Some(u)) => Doc::Uint(u),
                _ => Doc::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Doc::Str(Cow::Borrowed(s)),
            Json::Array(items) => Doc::Array(items.iter().map(Doc::from_json).collect()),
            Json::Object(map) => Doc::Object(Obj::from_json(map, None)),
        }
    }

    /// What the value is, as error messages name it ("an array", "null").
    pub fn kind(&self) -> &'static str {
        match self {
            Doc::Null => "null",
            Doc::Bool(_) => "a boolean",
            Doc::Int(_) | Doc::Uint(_) | Doc::Float(_) => "a number",
            Doc::Str(_) => "a string",
            Doc::Array(_) => "an array",
            Doc::Object(_) => "an object",
        }
    }

    /// An owned value, for constants compiled into a mapping.
    pub fn into_static(self) -> Doc<'static> {
        match self {
            Doc::Null => Doc::Null,
            Doc::Bool(b) => Doc::Bool(b),
            Doc::Int(i) => Doc::Int(i),
            Doc::Uint(u) => Doc::Uint(u),
            Doc::Float(f) => Doc::Float(f),
            Doc::Str(s) => Doc::Str(Cow::Owned(s.into_owned())),
            Doc::Array(items) => Doc::Array(items.into_iter().map(Doc::into_static).collect()),
            Doc::Object(obj) => Doc::Object(Obj {
                entries: obj
                    .entries
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_static()))
                    .collect(),
                index: obj.index,
            }),
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Doc::Null => Json::Null,
            Doc::Bool(b) => Json::Bool(*b),
            Doc::Int(i) => Json::from(*i),
            Doc::Uint(u) => Json::from(*u),
            Doc::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Doc::Str(s) => Json::String(s.to_string()),
            Doc::Array(items) => Json::Array(items.iter().map(Doc::to_json).collect()),
            Doc::Object(obj) => Json::Object(obj.to_json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Equal keys of every length a word path covers, and each one byte off at each position.
    #[test]
    fn same_key_compares_every_byte() {
        for n in 0usize..24 {
            let a: Vec<u8> = (0..n).map(|i| b'a' + i as u8).collect();
            assert!(same_key(&a, &a.clone()));
            assert!(!same_key(&a, &a[..n.saturating_sub(1)]) || n == 0);
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_key(&a, &b), "length {n}, byte {at}");
            }
        }
    }

    fn obj(keys: &[(&'static str, i64)]) -> Obj<'static> {
        Obj::new(
            keys.iter()
                .map(|(k, v)| (Cow::Borrowed(*k), Doc::Int(*v)))
                .collect(),
        )
    }

    /// Every key of a large object is found where its input order puts it, and no other.
    #[test]
    fn a_large_object_finds_every_key_at_its_position() {
        let alphabet = [b'a', b'b', b'z', 0xc3, 0xa9, b'_', b'0'];
        let mut state = 7u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let mut keys = Vec::new();
        for _ in 0..3000 {
            let n = next() % 20;
            let bytes: Vec<u8> = (0..n).map(|_| alphabet[next() % alphabet.len()]).collect();
            keys.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        keys.sort();
        keys.dedup();
        let entries: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (Cow::Owned(k.clone()), Doc::Int(i as i64)))
            .collect();
        let object = Obj::new(entries);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(object.find(k), Some((i, &Doc::Int(i as i64))), "{k:?}");
            assert_eq!(object.get_at(i, k), Some(&Doc::Int(i as i64)));
        }
        assert_eq!(object.find("not a key of it"), None);
    }

    #[test]
    fn duplicate_keys_keep_the_first_position_and_the_last_value() {
        let small = obj(&[("a", 1), ("b", 2), ("a", 3)]);
        assert_eq!(Json::Object(small.to_json()), json!({"a": 3, "b": 2}));
        let mut keys: Vec<(&'static str, i64)> = Vec::new();
        let names: Vec<&'static str> = (0..40)
            .map(|i| &*Box::leak(format!("k{i}").into_boxed_str()))
            .collect();
        for (i, name) in names.iter().enumerate() {
            keys.push((name, i as i64));
        }
        keys.push(("k3", 100));
        keys.push(("k3", 101));
        let large = obj(&keys);
        assert_eq!(large.len(), 40);
        assert_eq!(large.get("k3"), Some(&Doc::Int(101)));
        assert_eq!(large.iter().nth(3).map(|(k, _)| k), Some("k3"));
        assert_eq!(large.get("k39"), Some(&Doc::Int(39)));
        assert_eq!(large.get("k40"), None);
    }

    #[test]
    fn serde_json_values_convert_both_ways() {
        let v =
            json!({"a": [1, -2, 18446744073709551615u64, 1.5, "x", null, true], "b": {"c": {}}});
        assert_eq!(Doc::from_json(&v).to_json(), v);
    }
}
