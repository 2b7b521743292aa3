//! Where the agent's log lines go, and why never to an inherited pipe.
//!
//! `agent start` (and `proxy`) start the daemon with its stderr piped to
//! themselves, to report a failure to start, and then exit: the pipe's
//! reader is gone. A log line written there fails with EPIPE, and
//! tracing-subscriber reports a failed write with `eprintln!`, which panics
//! on a broken stderr: the daemon died on its first log line, wiping every
//! key and leaving its socket behind. So `agent run`:
//!
//! - logs to stderr when stderr is the journal (`JOURNAL_STREAM` is set:
//!   systemd runs it) or a terminal (someone runs it in the foreground);
//! - otherwise logs to `<state dir>/agent.log`, with a timestamp on each
//!   line, capped at [`MAX_LOG`] bytes: the file is then renamed to
//!   `agent.log.1` (replacing the previous one) and a new one begun;
//! - and never fails for a write: a line that cannot be written is dropped
//!   (`main` turns off tracing-subscriber's own error reports, too).
//!
//! Once the daemon has said it is ready, a stderr that is not the log is
//! pointed at the null device (see `commands/agent.rs`), so nothing else
//! (a panic message) writes to the dead pipe either.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::time::FormatTime;

/// The size at which the log file is rotated.
pub const MAX_LOG: u64 = 1024 * 1024;

/// The log file's name in the state directory.
pub const LOG_FILE: &str = "agent.log";

static FILE_LOG: OnceLock<Option<Mutex<FileLog>>> = OnceLock::new();

/// Whether this process logs to the file rather than to stderr (asked
/// only on Unix, where the daemon then points stderr at /dev/null).
#[cfg(unix)]
pub fn to_file() -> bool {
    matches!(FILE_LOG.get(), Some(Some(_)))
}

/// The agent daemon's writer: stderr or the log file, as described above.
/// Called once, before tracing is set up.
pub fn daemon_writer() -> Writer {
    use std::io::IsTerminal;
    let to_stderr = std::env::var_os("JOURNAL_STREAM").is_some_and(|v| !v.is_empty()) || io::stderr().is_terminal();
    let file = (!to_stderr).then(|| {
        let path = crate::dirs::state_dir().map(|d| d.join(LOG_FILE));
        Mutex::new(FileLog {
            file: path.as_ref().ok().and_then(|p| open(p).ok()),
            path: path.ok(),
            at_line_start: true,
        })
    });
    let _ = FILE_LOG.set(file);
    Writer
}

/// The log file, appended to, private to us.
fn open(path: &PathBuf) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

struct FileLog {
    /// `None` if there is no state directory or the file cannot be opened:
    /// lines are then dropped.
    file: Option<File>,
    path: Option<PathBuf>,
    at_line_start: bool,
}

impl FileLog {
    fn write(&mut self, buf: &[u8]) {
        let Some(path) = &self.path else { return };
        if let Some(file) = &self.file
            && file.metadata().is_ok_and(|m| m.len() >= MAX_LOG)
        {
            self.file = None;
            let mut old = path.as_os_str().to_owned();
            old.push(".1");
            let _ = std::fs::rename(path, old);
        }
        if self.file.is_none() {
            self.file = open(path).ok();
        }
        let Some(file) = &mut self.file else { return };
        let mut line = Vec::with_capacity(buf.len() + 32);
        for piece in buf.split_inclusive(|b| *b == b'\n') {
            if self.at_line_start {
                let mut stamp = String::new();
                let _ = tracing_subscriber::fmt::time::SystemTime
                    .format_time(&mut tracing_subscriber::fmt::format::Writer::new(&mut stamp));
                line.extend_from_slice(stamp.as_bytes());
                line.push(b' ');
            }
            line.extend_from_slice(piece);
            self.at_line_start = piece.ends_with(b"\n");
        }
        let _ = file.write_all(&line);
    }
}

/// Writes each event to the file or to stderr; never fails.
#[derive(Clone, Copy)]
pub struct Writer;

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match FILE_LOG.get() {
            Some(Some(log)) => log.lock().unwrap_or_else(|e| e.into_inner()).write(buf),
            _ => {
                let _ = io::stderr().write_all(buf);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Writer {
    type Writer = Writer;

    fn make_writer(&'a self) -> Writer {
        Writer
    }
}

/// Panics, too, go to the log: the daemon's stderr is not read.
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        tracing::error!("panicked: {info}");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_stamped_and_the_file_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let mut log = FileLog {
            file: None,
            path: Some(path.clone()),
            at_line_start: true,
        };
        log.write(b"first line\nsecond ");
        log.write(b"half\n");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].ends_with(" first line") && lines[0].len() > " first line".len(),
            "{text}"
        );
        assert!(lines[1].ends_with(" second half"), "{text}");

        let big = vec![b'x'; MAX_LOG as usize];
        log.write(&big);
        log.write(b"\nafter the cap\n");
        let old = std::fs::metadata(dir.path().join(format!("{LOG_FILE}.1"))).unwrap();
        assert!(old.len() >= MAX_LOG);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with(" after the cap\n") && (text.len() as u64) < MAX_LOG,
            "{text}"
        );
    }
}
