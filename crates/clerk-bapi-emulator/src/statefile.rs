//! `--state FILE`: reading and writing the state document ([`Snapshot`]) on disk.
//!
//! Writes are atomic (a temporary file in the same folder, flushed to disk, then renamed over the
//! file), owner-only (it holds secret keys) and bounded ([`MAX_STATE_FILE_BYTES`]). A file that is
//! not an emulator state file — not JSON, another format, a later version, inconsistent — is
//! refused with a message that says why, and never overwritten; nor is a file someone else
//! changed since the emulator last wrote it.

use crate::errors::EmulatorError;
use crate::state::snapshot::{Snapshot, FORMAT, VERSION};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Largest state file read or written (64 MiB; a state of 100,000 tokens is about 40 MiB).
pub const MAX_STATE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What the emulator last saw of its file, so it can tell when someone else changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
}

impl Seen {
    fn of(meta: &std::fs::Metadata) -> Seen {
        Seen { len: meta.len(), modified: meta.modified().ok() }
    }
}

/// One state file.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    seen: Mutex<Option<Seen>>,
}

impl StateFile {
    pub fn new(path: impl Into<PathBuf>) -> StateFile {
        StateFile { path: path.into(), seen: Mutex::new(None) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, reason: impl Into<String>) -> EmulatorError {
        EmulatorError::StateFile { path: self.path.display().to_string(), reason: reason.into() }
    }

    fn refuse(&self, what: &str) -> EmulatorError {
        self.error(format!("{what}. The emulator does not overwrite it: move it away, or choose another --state path"))
    }

    fn remember(&self, seen: Option<Seen>) {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = seen;
    }

    /// The saved state, `None` when the file does not exist yet.
    pub fn read(&self) -> Result<Option<Snapshot>, EmulatorError> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(format!("cannot be read: {e}"))),
        };
        if !meta.is_file() {
            return Err(self.refuse("is not a regular file"));
        }
        if meta.len() > MAX_STATE_FILE_BYTES {
            return Err(self.refuse(&format!("is larger than {MAX_STATE_FILE_BYTES} bytes, more than any emulator state")));
        }
        let bytes = std::fs::read(&self.path).map_err(|e| self.error(format!("cannot be read: {e}")))?;
        let snapshot = self.parse(&bytes)?;
        self.remember(std::fs::metadata(&self.path).ok().map(|m| Seen::of(&m)));
        Ok(Some(snapshot))
    }

    fn parse(&self, bytes: &[u8]) -> Result<Snapshot, EmulatorError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(self.refuse("is empty, not an emulator state file"));
        }
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| self.refuse(&format!("is not JSON ({e}), so not an emulator state file")))?;
        match value.get("format").and_then(serde_json::Value::as_str) {
            Some(FORMAT) => {}
            _ => return Err(self.refuse(&format!("is not an emulator state file (it has no \"format\": \"{FORMAT}\")"))),
        }
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => return Err(self.refuse(&format!("is version {v} of the state format; this emulator reads version {VERSION}"))),
            None => return Err(self.refuse("has no version")),
        }
        serde_path_to_error::deserialize(value).map_err(|e| self.refuse(&format!("is damaged at {}: {}", e.path(), e.inner())))
    }

    /// Writes `snapshot` atomically. Refuses when the file on disk is no longer the one the
    /// emulator read or last wrote (someone else changed it), or when the state is too large.
    pub fn write(&self, snapshot: &Snapshot) -> Result<(), EmulatorError> {
        let mut bytes = serde_json::to_vec_pretty(snapshot).map_err(|e| self.error(format!("could not be encoded: {e}")))?;
        bytes.push(b'\n');
        if bytes.len() as u64 > MAX_STATE_FILE_BYTES {
            return Err(self.error(format!("not saved: the state is {} bytes, over the {MAX_STATE_FILE_BYTES}-byte ceiling (revoke or let expire some tokens)", bytes.len())));
        }
        let expected = self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match std::fs::metadata(&self.path) {
            Ok(meta) if expected.as_ref() != Some(&Seen::of(&meta)) => return Err(self.refuse("was changed by something else since the emulator last read or wrote it; not saved")),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.error(format!("cannot be checked: {e}"))),
        }
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Created owner-only (0600 on Unix): the file holds secret keys.
        let mut tmp = tempfile::Builder::new().prefix(".clerk-emulator-state").tempfile_in(&dir).map_err(|e| self.error(format!("cannot be written in {}: {e}", dir.display())))?;
        tmp.write_all(&bytes).and_then(|_| tmp.as_file().sync_all()).map_err(|e| self.error(format!("could not be written: {e}")))?;
        tmp.persist(&self.path).map_err(|e| self.error(format!("could not be replaced: {}", e.error)))?;
        self.remember(std::fs::metadata(&self.path).ok().map(|m| Seen::of(&m)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_support::instance;
    use crate::state::{EmulatorState, Limits};

    fn snapshot() -> Snapshot {
        EmulatorState { instances: vec![instance()], limits: Limits::default() }.snapshot("http://127.0.0.1:1", 0).unwrap()
    }

    #[test]
    fn writes_atomically_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("state.json"));
        assert!(file.read().unwrap().is_none());
        file.write(&snapshot()).unwrap();
        let back = file.read().unwrap().unwrap();
        assert_eq!(back.instances[0].id, "ins_test");
        file.write(&back).unwrap();
        // Nothing else is left in the folder (the temporary file was renamed).
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(file.path()).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn refuses_foreign_corrupt_and_changed_files_without_touching_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        for (content, says) in [
            ("", "is empty"),
            ("{not json", "is not JSON"),
            (r#"{"name":"my-app","version":"1.0.0"}"#, "not an emulator state file"),
            (r#"{"format":"clerk-bapi-emulator/state","version":2,"instances":[]}"#, "version 2"),
            (r#"{"format":"clerk-bapi-emulator/state","version":1,"savedAtMs":0,"instances":[{"id":"ins_1"}]}"#, "instances[0]"),
        ] {
            std::fs::write(&path, content).unwrap();
            let file = StateFile::new(&path);
            let e = file.read().unwrap_err().to_string();
            assert!(e.contains(says) && e.contains("does not overwrite"), "{e}");
            assert!(file.write(&snapshot()).is_err(), "a refused file is not overwritten");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), content);
        }
        // A file changed behind the emulator's back is not overwritten either.
        std::fs::remove_file(&path).unwrap();
        let file = StateFile::new(&path);
        file.write(&snapshot()).unwrap();
        std::fs::write(&path, "{}").unwrap();
        assert!(file.write(&snapshot()).unwrap_err().to_string().contains("changed by something else"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        // A directory is not a state file.
        assert!(StateFile::new(dir.path()).read().unwrap_err().to_string().contains("not a regular file"));
    }
}
