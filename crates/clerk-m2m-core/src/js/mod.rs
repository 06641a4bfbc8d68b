//! JavaScript semantics that leak into the reference's answers, each rule written once.
//!
//! `@clerk/backend` builds its error messages with `JSON.stringify`, template strings and
//! `Date.prototype.toUTCString`, its resources with JS arithmetic (`exp * 1000`, `Date` +
//! `setUTCSeconds`) and its lookups with `String(x)` property keys. Exact parity of those
//! answers needs the same rules, so they live here:
//!
//! * [`number`]: `Number.prototype.toString`, and a number as JSON (`JSON.stringify`'s rule,
//!   and the exact form the JS layer reads back, `-0` and non-finite values included);
//! * [`coerce`]: `ToBoolean`, `ToNumber`, `String(x)`;
//! * [`object`]: property reads and `Object.keys` order;
//! * [`stringify`]: `JSON.stringify` itself;
//! * [`date`]: `TimeClip`, `setUTCSeconds`, `toUTCString`;
//! * [`value`]: a JavaScript value held by a resource field (`undefined`, NaN…) and its wire form.
//!
//! A JSON value that is absent (a missing property, JS `undefined`) is an `Option::None` throughout.

pub mod coerce;
pub mod date;
pub mod number;
pub mod object;
pub mod stringify;
pub mod value;

pub use coerce::{is_truthy, to_js_string, to_number};
pub use date::{set_utc_seconds_ms, time_clip, to_utc_string};
pub use number::{number_to_json, number_to_string};
pub use object::{get, is_array_index, object_keys};
pub use stringify::{json_stringify, json_stringify_opt};
