//! Property reads and `Object.keys` order on objects parsed from JSON.

use serde_json::{Map, Value};

/// `value.key` for a value parsed from JSON: only objects have properties
/// (strings, numbers, arrays have none of the names Clerk reads). `null` is
/// treated like an object without properties; in JavaScript reading from it
/// throws, see the callers for how that divergence is handled.
pub fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    let map = value.as_object()?;
    // JWT headers and payloads have a handful of members: comparing names is
    // cheaper than hashing `key` (the map's keys are unique, so the first match is the one).
    if map.len() <= SMALL_OBJECT {
        return map.iter().find_map(|(k, v)| (k == key).then_some(v));
    }
    map.get(key)
}

/// Up to this many members, [`get`] scans instead of hashing.
const SMALL_OBJECT: usize = 16;

/// True for the keys JavaScript treats as array indices (canonical integers
/// `0 ..= 2^32 - 2`), which `Object.keys` lists first, in ascending order.
pub fn is_array_index(key: &str) -> bool {
    if key.is_empty() || key.len() > 10 || !key.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if key.len() > 1 && key.starts_with('0') {
        return false;
    }
    matches!(key.parse::<u64>(), Ok(n) if n <= 4_294_967_294)
}

/// Keys of an object in `Object.keys` order: array indices ascending, then
/// the other keys in insertion order (what `serde_json`'s `preserve_order` keeps).
pub fn object_keys(map: &Map<String, Value>) -> Vec<&String> {
    let mut indices: Vec<(u64, &String)> =
        map.keys().filter(|k| is_array_index(k)).filter_map(|k| k.parse::<u64>().ok().map(|n| (n, k))).collect();
    indices.sort_by_key(|(n, _)| *n);
    let mut keys: Vec<&String> = indices.into_iter().map(|(_, k)| k).collect();
    keys.extend(map.keys().filter(|k| !is_array_index(k)));
    keys
}
