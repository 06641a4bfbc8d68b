//! `TextDecoder` + `JSON.parse`, as the reference applies them to JWT segments.
//!
//! * Bytes are decoded as UTF-8 lossily (invalid sequences become U+FFFD, the
//!   WHATWG "maximal subpart" rule that `String::from_utf8_lossy` also follows)
//!   and one leading BOM is removed, as `new TextDecoder().decode()` does.
//! * Any JSON value is accepted at the top level; duplicate keys: last wins,
//!   first position kept (`serde_json` with `preserve_order`, like JS objects).
//!
//! Known, documented divergences from `JSON.parse` (all on inputs Clerk never
//! mints): numbers beyond f64 range (`1e400`), lone surrogate escapes and
//! nesting deeper than 128 levels are rejected instead of accepted. The depth
//! limit is deliberate: unbounded recursion could overflow the stack, which no
//! `catch_unwind` can stop.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

const BOM: char = '\u{feff}';

/// Decodes bytes to text like `TextDecoder` (lossy, one leading BOM removed).
pub fn text_decode(bytes: &[u8]) -> Cow<'_, str> {
    // Valid UTF-8 (every real token) takes the fast validator; only invalid
    // input pays for the lossy chunk-by-chunk walk.
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s.strip_prefix(BOM).unwrap_or(s));
    }
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => Cow::Borrowed(s.strip_prefix(BOM).unwrap_or(s)),
        Cow::Owned(s) => match s.strip_prefix(BOM) {
            Some(rest) => Cow::Owned(rest.to_owned()),
            None => Cow::Owned(s),
        },
    }
}

/// `JSON.parse(new TextDecoder().decode(bytes))`; `None` where it would throw.
pub fn parse_segment(bytes: &[u8]) -> Option<Value> {
    let text = text_decode(bytes);
    let mut de = serde_json::Deserializer::from_str(&text);
    let value = ValueSeed { top: true }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

/// Room reserved in a segment's top-level object: JWT headers and payloads
/// have 4–10 members, and an `IndexMap` grown from empty reallocates and
/// rehashes three times on the way. Not more: 16 members' entries (> 1 KiB)
/// are a glibc "large" request, which consolidates the fast bins on every call
/// (measured: `malloc_consolidate` went from 1% to 5% of the hot path).
const TOP_LEVEL_MEMBERS: usize = 8;

/// `serde_json::Value`'s own deserialisation (the same visitor calls, so the
/// same values, key order and duplicate rule), except the top-level object's capacity.
struct ValueSeed {
    top: bool,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        ValueSeed { top: false }.deserialize(deserializer)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed { top: false })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut members = if self.top { serde_json::Map::with_capacity(TOP_LEVEL_MEMBERS) } else { serde_json::Map::new() };
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(ValueSeed { top: false })?;
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

/// One member's value of a top-level object read by [`parse_members`]: a string borrowed from
/// the segment's text where it has no escapes, anything else the [`Value`] `JSON.parse` would
/// have built (numbers, `null` and booleans allocate nothing; arrays and objects are rare in
/// the claims Clerk reads, `aud` aside).
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'b> {
    Str(Cow<'b, str>),
    /// Never a [`Value::String`] (strings are [`Field::Str`]).
    Json(Value),
}

impl<'b> Field<'b> {
    pub fn as_ref(&self) -> FieldRef<'_> {
        match self {
            Field::Str(s) => FieldRef::Str(s),
            Field::Json(v) => FieldRef::from(v),
        }
    }

    /// The value `JSON.parse` would have built.
    pub fn into_value(self) -> Value {
        match self {
            Field::Str(s) => Value::String(s.into_owned()),
            Field::Json(v) => v,
        }
    }
}

/// A present property of a decoded JSON object, borrowed: a string, or any other value.
/// The claim rules read both decoders through it (strings are always [`FieldRef::Str`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    Str(&'a str),
    Json(&'a Value),
}

impl<'a> From<&'a Value> for FieldRef<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::String(s) => FieldRef::Str(s),
            other => FieldRef::Json(other),
        }
    }
}

impl<'a> FieldRef<'a> {
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            FieldRef::Str(s) => Some(s),
            FieldRef::Json(v) => v.as_str(),
        }
    }

    /// The JSON number, if it is one (`Value::as_f64`).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            FieldRef::Str(_) => None,
            FieldRef::Json(v) => v.as_f64(),
        }
    }

    pub fn is_null(self) -> bool {
        matches!(self, FieldRef::Json(Value::Null))
    }

    /// An owned copy, for the paths that allocate anyway (messages, OAuth, the network).
    pub fn to_value(self) -> Value {
        match self {
            FieldRef::Str(s) => Value::String(s.to_owned()),
            FieldRef::Json(v) => v.clone(),
        }
    }
}

/// Members kept inline: a Clerk M2M JWT's payload has 8, its header 4.
const INLINE_MEMBERS: usize = 12;

/// Past this many members a key index replaces the linear duplicate scan, so a hostile
/// payload of thousands of distinct keys costs hashing, not a quadratic scan.
const SCAN_MEMBERS: usize = 32;

/// The members of a JWT segment's top-level object as `JSON.parse` leaves them: duplicate keys
/// last-wins at the first occurrence's position (as `preserve_order` keeps them), keys and
/// escape-free strings borrowed from the text. A top-level value that is not an object has
/// no members (how the verification path reads it, see [`crate::js::get`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Members<'b> {
    entries: smallvec::SmallVec<[(Cow<'b, str>, Field<'b>); INLINE_MEMBERS]>,
}

impl<'b> Members<'b> {
    /// `object[name]` (own members only; absent → `None`).
    pub fn get(&self, name: &str) -> Option<FieldRef<'_>> {
        self.entries.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The members in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, FieldRef<'_>)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// The object `JSON.parse` would have built (`Value::Null`-free: an empty map when there were no members).
    pub fn to_map(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::with_capacity(self.entries.len());
        for (k, v) in &self.entries {
            map.insert(k.to_string(), v.as_ref().to_value());
        }
        map
    }
}

impl<'b> IntoIterator for Members<'b> {
    type Item = (Cow<'b, str>, Field<'b>);
    type IntoIter = smallvec::IntoIter<[(Cow<'b, str>, Field<'b>); INLINE_MEMBERS]>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// `JSON.parse(text)` read as [`Members`]: the same acceptance as [`parse_segment`] (every
/// value that is not a top-level string or key goes through the same [`ValueSeed`]), without
/// a map or a copy of any key or escape-free string. `None` where `JSON.parse` would throw.
/// `text` is already decoded ([`text_decode`]).
pub fn parse_members(text: &str) -> Option<Members<'_>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let members = de::Deserializer::deserialize_any(&mut de, MembersVisitor).ok()?;
    de.end().ok()?;
    Some(members)
}

/// The top-level value: an object's members are collected, anything else validated and dropped.
struct MembersVisitor;

/// Anything but an object: parsed exactly as [`parse_segment`] would, then dropped.
macro_rules! validate_as_value {
    ($($name:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(fn $name<E: de::Error>(self, $($arg: $ty),*) -> Result<Members<'de>, E> {
            ValueSeed { top: false }.$name($($arg),*).map(|_| Members::default())
        })*
    };
}

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    validate_as_value!(visit_bool(v: bool), visit_i64(v: i64), visit_u64(v: u64), visit_f64(v: f64), visit_str(v: &str), visit_unit());

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Members<'de>, A::Error> {
        ValueSeed { top: false }.visit_seq(seq).map(|_| Members::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Members<'de>, A::Error> {
        let mut members = Members::default();
        // Built once a payload passes SCAN_MEMBERS members: key → position.
        let mut index: Option<std::collections::HashMap<Cow<'de, str>, usize>> = None;
        while let Some(key) = access.next_key_seed(BorrowedStr)? {
            let value = access.next_value_seed(FieldSeed)?;
            let existing = match &index {
                Some(index) => index.get(key.as_ref()).copied(),
                None => members.entries.iter().position(|(k, _)| *k == key),
            };
            match existing {
                // Last wins, at the first occurrence's position.
                Some(i) => {
                    if let Some(slot) = members.entries.get_mut(i) {
                        slot.1 = value;
                    }
                }
                None => {
                    if let Some(index) = &mut index {
                        index.insert(key.clone(), members.entries.len());
                    }
                    members.entries.push((key, value));
                    if index.is_none() && members.entries.len() > SCAN_MEMBERS {
                        index = Some(members.entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
                    }
                }
            }
        }
        Ok(members)
    }
}

/// A key or string: borrowed from the text when it has no escapes, else owned.
struct BorrowedStr;

impl<'de> DeserializeSeed<'de> for BorrowedStr {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for BorrowedStr {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// A member's value: a string as [`Field::Str`], anything else through [`ValueSeed`].
struct FieldSeed;

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = Field<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Field<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! field_as_value {
    ($($name:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(fn $name<E: de::Error>(self, $($arg: $ty),*) -> Result<Field<'de>, E> {
            ValueSeed { top: false }.$name($($arg),*).map(Field::Json)
        })*
    };
}

impl<'de> Visitor<'de> for FieldSeed {
    type Value = Field<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }
    field_as_value!(visit_bool(v: bool), visit_i64(v: i64), visit_u64(v: u64), visit_f64(v: f64), visit_unit());
    fn visit_none<E: de::Error>(self) -> Result<Field<'de>, E> {
        Ok(Field::Json(Value::Null))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Field<'de>, A::Error> {
        ValueSeed { top: false }.visit_seq(seq).map(Field::Json)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<'de>, A::Error> {
        ValueSeed { top: false }.visit_map(map).map(Field::Json)
    }
}

/// What a top-level JSON value says about one string-valued field.
#[cfg(any(test, feature = "test-hooks"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProbe {
    /// The value is an object whose last `field` entry is a string.
    String(String),
    /// Valid JSON, but not an object, or no `field`, or `field` is not a string.
    NotAString,
}

/// Parses `bytes` as a JWT segment would be parsed and reports only `field`,
/// without building a tree. `None` means the segment is not valid JSON (where
/// `JSON.parse` throws).
#[cfg(any(test, feature = "test-hooks"))]
pub fn probe_string_field(bytes: &[u8], field: &str) -> Option<FieldProbe> {
    Some(probe_field(bytes, field, str::to_owned)?.map_or(FieldProbe::NotAString, FieldProbe::String))
}

/// [`probe_string_field`] for detection: whether the last `field` member of a
/// top-level object is a string for which `test` holds; `None` where `JSON.parse`
/// throws. Allocates nothing for valid UTF-8 whose keys and `field` value have
/// no escapes (every real token): keys are compared where they lie, the value
/// is tested where it lies, everything else is skipped while being validated.
pub fn probe_str_field(bytes: &[u8], field: &str, test: impl Fn(&str) -> bool) -> Option<bool> {
    Some(probe_field(bytes, field, test)?.unwrap_or(false))
}

/// The streaming probe both share: `Some(Some(read(value)))` for a string-valued
/// last `field`, `Some(None)` for any other valid JSON, `None` for invalid JSON.
fn probe_field<R>(bytes: &[u8], field: &str, read: impl Fn(&str) -> R) -> Option<Option<R>> {
    let text = text_decode(bytes);
    let mut de = serde_json::Deserializer::from_str(&text);
    let found = de::Deserializer::deserialize_any(&mut de, FieldVisitor { field, read: &read }).ok()?;
    de.end().ok()?;
    Some(found)
}

/// Visits the top-level value; only an object's `field` members are read.
struct FieldVisitor<'a, F> {
    field: &'a str,
    read: &'a F,
}

/// Any value: a string goes through `read`; anything else is validated and dropped.
struct StringValue<'a, F>(&'a F);

/// A map key, answered as "is it `field`?" (compared in place, never copied).
struct KeyIs<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The non-string, non-container values answer `Ok(None)` in both visitors.
macro_rules! scalars_are_none {
    ($r:ty) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<$r>, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<$r>, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<$r>, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<$r>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<$r>, E> {
            Ok(None)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Option<$r>, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}

impl<'de, R, F: Fn(&str) -> R> DeserializeSeed<'de> for StringValue<'_, F> {
    type Value = Option<R>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<R>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, R, F: Fn(&str) -> R> Visitor<'de> for StringValue<'_, F> {
    type Value = Option<R>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<R>, E> {
        Ok(Some((self.0)(v)))
    }
    scalars_are_none!(R);
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<R>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de, R, F: Fn(&str) -> R> Visitor<'de> for FieldVisitor<'_, F> {
    type Value = Option<R>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<R>, E> {
        Ok(None)
    }
    scalars_are_none!(R);
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<R>, A::Error> {
        let mut found = None;
        while let Some(is_field) = map.next_key_seed(KeyIs(self.field))? {
            if is_field {
                // Last wins, as in JSON.parse: a later non-string entry clears an earlier string.
                found = map.next_value_seed(StringValue(self.read))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_decode_is_lossy_and_strips_one_bom() {
        assert_eq!(text_decode(b"\xEF\xBB\xBF{}"), "{}");
        assert_eq!(text_decode(b"\xEF\xBB\xBF\xEF\xBB\xBF{}"), "\u{feff}{}");
        assert_eq!(text_decode(b"\"\xFF\xFE\""), "\"\u{fffd}\u{fffd}\"");
        assert_eq!(text_decode(b"\xEF\xBB\xBF\xFF"), "\u{fffd}");
    }

    #[test]
    fn parse_segment_accepts_any_json_value() {
        assert_eq!(parse_segment(b"null"), Some(Value::Null));
        assert_eq!(parse_segment(b" [1] "), Some(json!([1])));
        assert_eq!(parse_segment(b"42"), Some(json!(42)));
        assert_eq!(parse_segment(b"\"x\""), Some(json!("x")));
        assert_eq!(parse_segment(b"{"), None);
        assert_eq!(parse_segment(b"{} x"), None);
        assert_eq!(parse_segment(b""), None);
    }

    #[test]
    fn the_capacity_seed_parses_exactly_as_serde_json() {
        let cases = [
            r#"{"a":1,"b":-2,"c":1.5,"d":-0,"e":-0.0,"f":1e5,"g":18446744073709551615,"h":18446744073709551616,"i":-9223372036854775808}"#,
            r#"{"s":"\u00e9\n\"","n":null,"t":true,"f":false,"arr":[1,[2,[3,{"x":{}}]],"y"],"o":{"z":1,"a":2,"z":3}}"#,
            r#"[{"k":1},{"k":2,"k":{"deep":[null]}}]"#,
            r#"  "just a string"  "#,
            "12345678901234567890123",
            "{}",
            "[]",
            r#"{"1":"x","0":"y","b":"z","a":{"2":1,"1":2}}"#,
        ];
        for case in cases {
            let ours = parse_segment(case.as_bytes()).map(|v| v.to_string());
            let theirs = serde_json::from_str::<Value>(case).ok().map(|v| v.to_string());
            assert_eq!(ours, theirs, "{case}");
            assert!(ours.is_some(), "{case}");
        }
        let many: String = format!("{{{}}}", (0..100).map(|i| format!(r#""k{i}":{i}"#)).collect::<Vec<_>>().join(","));
        assert_eq!(parse_segment(many.as_bytes()).map(|v| v.to_string()), serde_json::from_str::<Value>(&many).ok().map(|v| v.to_string()));
    }

    proptest::proptest! {
        #[test]
        fn the_capacity_seed_agrees_with_serde_json_on_any_text(s in r#"[\[\]{}":,0-9a-z.eE+\- ]{0,40}"#) {
            let ours = parse_segment(s.as_bytes()).map(|v| v.to_string());
            let theirs = serde_json::from_str::<Value>(&s).ok().map(|v| v.to_string());
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn duplicate_keys_last_wins_first_position() {
        let v = parse_segment(br#"{"a":1,"b":2,"a":3}"#).expect("valid");
        assert_eq!(v["a"], json!(3));
        let keys: Vec<_> = v.as_object().expect("object").keys().cloned().collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn documented_divergences_are_rejections() {
        assert_eq!(parse_segment(br#"{"exp":1e400}"#), None);
        assert_eq!(parse_segment(br#"{"sub":"\ud800"}"#), None);
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(parse_segment(deep.as_bytes()), None);
    }

    #[test]
    fn probe_reports_last_string_value() {
        assert_eq!(probe_string_field(br#"{"sub":"mch_1"}"#, "sub"), Some(FieldProbe::String("mch_1".into())));
        assert_eq!(probe_string_field(br#"{"sub":"user_1","sub":"mch_1"}"#, "sub"), Some(FieldProbe::String("mch_1".into())));
        assert_eq!(probe_string_field(br#"{"sub":"mch_1","sub":5}"#, "sub"), Some(FieldProbe::NotAString));
        assert_eq!(probe_string_field(br#"{"x":{"sub":"mch_1"}}"#, "sub"), Some(FieldProbe::NotAString));
        assert_eq!(probe_string_field(br#""mch_1""#, "sub"), Some(FieldProbe::NotAString));
        assert_eq!(probe_string_field(b"null", "sub"), Some(FieldProbe::NotAString));
        assert_eq!(probe_string_field(br#"{"sub":"mch_1"} x"#, "sub"), None);
        assert_eq!(probe_string_field(br#"{"sub":"m\u0063h_1"}"#, "sub"), Some(FieldProbe::String("mch_1".into())));
        assert_eq!(probe_string_field(b"\xEF\xBB\xBF{\"sub\":\"mch_\xFF\"}", "sub"), Some(FieldProbe::String("mch_\u{fffd}".into())));
    }

    #[test]
    fn probe_agrees_with_full_parse() {
        let cases: [&[u8]; 8] = [
            br#"{"sub":"mch_1","a":[1,{"b":null}]}"#,
            br#"[{"sub":"mch_1"}]"#,
            br#"{"sub":null}"#,
            br#"{"s\u0075b":"mch_2"}"#,
            b"{",
            b"",
            br#"{"sub":"a","sub":{"x":1},"sub":"b"}"#,
            br#"  {"sub" : "mch_x"}  "#,
        ];
        for case in cases {
            let full = parse_segment(case).map(|v| match v.get("sub") {
                Some(Value::String(s)) => FieldProbe::String(s.clone()),
                _ => FieldProbe::NotAString,
            });
            assert_eq!(probe_string_field(case, "sub"), full, "case {:?}", String::from_utf8_lossy(case));
        }
    }
}
