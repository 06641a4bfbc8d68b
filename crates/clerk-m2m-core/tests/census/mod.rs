//! What the security catalogue census (`scripts/census.mjs`) needs from the Rust tests: which
//! test ran and how many assertions it made. A test file opts in with `#[macro_use] mod census;`
//! before anything else: its `assert!`, `assert_eq!` and `assert_ne!` then count (these
//! macros shadow the standard ones and call them), and when a test's thread ends, one line is
//! appended to `$CLERK_M2M_CENSUS_DIR/rust-<binary>-<pid>.jsonl`: the test's name (libtest
//! names each test's thread after it), its file and the count. Nothing is written when
//! the variable is unset (a plain `cargo test`). Ignored tests never run, so never record;
//! a failing test fails the run whatever it recorded.
#![allow(dead_code, unused_macros)]

use std::cell::{Cell, RefCell};
use std::io::Write;

struct Recorder {
    assertions: Cell<u64>,
    file: Cell<&'static str>,
    /// Rows this test runs at a reduced size: `(row, ran, catalogue size, unit)`.
    reduced: RefCell<Vec<(&'static str, u64, u64, &'static str)>>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let Some(dir) = std::env::var_os("CLERK_M2M_CENSUS_DIR") else { return };
        let thread = std::thread::current();
        let Some(name) = thread.name().filter(|n| *n != "main") else { return };
        let reduced: Vec<serde_json::Value> = self
            .reduced
            .borrow()
            .iter()
            .map(|(row, ran, of, unit)| serde_json::json!({"row": row, "ran": ran, "of": of, "unit": unit}))
            .collect();
        let line = serde_json::json!({
            "runner": "rust",
            "file": self.file.get(),
            "name": name,
            "assertions": self.assertions.get(),
            "reduced": reduced,
        });
        let binary = std::env::current_exe().ok().and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned())).unwrap_or_default();
        let path = std::path::Path::new(&dir).join(format!("rust-{binary}-{}.jsonl", std::process::id()));
        // One short line per O_APPEND write: lines of concurrent tests never interleave.
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    }
}

thread_local! {
    static RECORDER: Recorder = const { Recorder { assertions: Cell::new(0), file: Cell::new(""), reduced: RefCell::new(Vec::new()) } };
}

/// Counts one assertion of the current test, made in `file`.
pub fn assertion(file: &'static str) {
    RECORDER.with(|r| {
        r.assertions.set(r.assertions.get().saturating_add(1));
        if r.file.get().is_empty() {
            r.file.set(file);
        }
    });
}

/// Says that the current test runs `row` at a reduced size: `ran` of the catalogue's `of` `unit`.
pub fn reduced(row: &'static str, ran: u64, of: u64, unit: &'static str) {
    RECORDER.with(|r| r.reduced.borrow_mut().push((row, ran, of, unit)));
}

macro_rules! assert {
    ($($arg:tt)*) => {{
        crate::census::assertion(file!());
        ::std::assert!($($arg)*)
    }};
}

macro_rules! assert_eq {
    ($($arg:tt)*) => {{
        crate::census::assertion(file!());
        ::std::assert_eq!($($arg)*)
    }};
}

macro_rules! assert_ne {
    ($($arg:tt)*) => {{
        crate::census::assertion(file!());
        ::std::assert_ne!($($arg)*)
    }};
}
