//! Results on stdout: aligned tables for people, JSON for programs.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use tabwriter::TabWriter;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Nanoseconds since the Unix epoch, for unique names.
pub fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A spinner on stderr, only when stderr is a terminal.
pub fn spinner(message: String) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

/// A coarse age: `45s`, `12m`, `5h`, `3d`.
pub fn age(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// Rows of cells as aligned lines (two spaces between columns).
pub fn align(rows: &[Vec<String>]) -> Vec<String> {
    let mut tw = TabWriter::new(vec![]).padding(2);
    for row in rows {
        // Cells come from AWS; a tab or newline inside one must not break the layout.
        let cells: Vec<String> = row.iter().map(|c| c.replace(['\t', '\n'], " ")).collect();
        let _ = writeln!(tw, "{}", cells.join("\t"));
    }
    let bytes = tw.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.trim_end().to_owned())
        .collect()
}

/// A table with a header, on stdout.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut all = vec![header.iter().map(|h| h.to_string()).collect()];
    all.extend(rows.iter().cloned());
    let mut out = std::io::stdout().lock();
    for line in align(&all) {
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(125), "2m");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(3 * 86_400 + 5), "3d");
        assert_eq!(age(-3), "0s");
    }

    #[test]
    fn aligns_columns() {
        let rows = vec![
            vec!["a".to_owned(), "bb".to_owned()],
            vec!["ccc".to_owned(), "d\te".to_owned()],
        ];
        assert_eq!(align(&rows), ["a    bb", "ccc  d e"]);
    }
}
