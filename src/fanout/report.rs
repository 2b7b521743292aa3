//! What `run` shows: each instance's lines as they come, prefixed with its
//! ID (one whole line per write, so instances never interleave mid-line), a
//! progress line on a terminal, and a summary or JSON records at the end.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Job;

/// How much of each stream a JSON record keeps per instance.
const KEEP_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

/// One instance's result.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub instance_id: String,
    pub location: String,
    /// The command's exit code; `null` when it did not run to the end.
    pub exit_code: Option<u8>,
    pub stdout: String,
    pub stderr: String,
    #[serde(serialize_with = "secs")]
    #[serde(rename = "duration_secs")]
    pub duration: Duration,
    /// Why it did not run to the end (access refused, timed out, …).
    pub error: Option<String>,
    /// How often GameLift throttled its access call (each was waited out).
    pub throttled: u32,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

impl Record {
    pub fn new(job: &Job) -> Record {
        Record {
            instance_id: job.instance_id.clone(),
            location: job.location.clone(),
            exit_code: None,
            stdout: String::new(),
            stderr: String::new(),
            duration: Duration::ZERO,
            error: None,
            throttled: 0,
        }
    }

    pub fn fail(&mut self, error: &str, started: Instant) {
        self.error = Some(error.to_owned());
        self.duration = started.elapsed();
    }

    pub fn ok(&self) -> bool {
        self.error.is_none() && self.exit_code == Some(0)
    }

    pub(super) fn keep_output(&mut self, out: Vec<String>, err: Vec<String>) {
        self.stdout = joined(out);
        self.stderr = joined(err);
    }
}

fn joined(lines: Vec<String>) -> String {
    let mut text = String::new();
    for line in lines {
        if text.len() + line.len() + 1 > KEEP_BYTES {
            text.push_str("[… output truncated]\n");
            break;
        }
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// Prints as instances progress. Text mode prints lines live; JSON mode
/// prints nothing until the end.
pub struct Reporter {
    live: bool,
    progress: Option<indicatif::ProgressBar>,
}

impl Reporter {
    /// `live`: print lines as they come (text output). A progress line is
    /// drawn on stderr when it is a terminal.
    pub fn new(live: bool, total: usize) -> Reporter {
        use std::io::IsTerminal;
        let progress = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{pos} of {len} done  {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Reporter { live, progress }
    }

    /// One line from an instance: `<id>: <line>` on stdout (or stderr), in
    /// one write, so no other instance's output lands inside it.
    pub fn line(&self, instance_id: &str, stream: Stream, line: &str) {
        if !self.live {
            return;
        }
        let text = format!("{instance_id}: {line}\n");
        let write = || match stream {
            Stream::Out => {
                let _ = std::io::stdout().lock().write_all(text.as_bytes());
            }
            Stream::Err => {
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            }
        };
        match &self.progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    pub fn finished(&self, record: &Record) {
        if let Some(bar) = &self.progress {
            bar.inc(1);
        }
        if let Some(error) = &record.error {
            tracing::debug!(instance = record.instance_id, error, "instance failed");
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
    }
}

/// The summary table: instance, location, exit code, duration, error.
pub fn summary_rows(records: &[Record]) -> Vec<Vec<String>> {
    records
        .iter()
        .map(|r| {
            vec![
                r.instance_id.clone(),
                r.location.clone(),
                r.exit_code.map_or("-".to_owned(), |c| c.to_string()),
                format!("{:.1}s", r.duration.as_secs_f64()),
                r.error.clone().unwrap_or_default(),
            ]
        })
        .collect()
}

pub const SUMMARY_HEADER: [&str; 5] = ["INSTANCE", "LOCATION", "EXIT", "DURATION", "ERROR"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_serialize_as_documented() {
        let mut r = Record::new(&Job {
            instance_id: "i-1".into(),
            location: "us-west-2".into(),
        });
        r.exit_code = Some(0);
        r.keep_output(vec!["a".into(), "b".into()], vec![]);
        r.duration = Duration::from_millis(1234);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"instance_id": "i-1", "location": "us-west-2", "exit_code": 0,
                "stdout": "a\nb\n", "stderr": "", "duration_secs": 1.234, "error": null, "throttled": 0})
        );
        assert!(r.ok());
    }
}
