//! Zip throughput and size per compression policy, through the product's
//! own walk and zip stream (`src/upload/walk.rs`, `src/upload/zipstream.rs`,
//! compiled in here unchanged), minus the network: the parts are counted
//! and dropped by a thread standing in for the S3 uploader.
//!
//! `benches/zip_levels.sh` builds the two trees and runs this; by hand:
//!
//! ```sh
//! cargo build --release --bench zip_levels   # prints nothing; then
//! target/release/deps/zip_levels-HASH [--runs N] DIR...
//! ```
//!
//! For each DIR and policy it prints the median of N runs (default 3) after
//! one warm-up pass that puts the tree in the page cache: output MB, the
//! ratio to the input, zip MB/s (input bytes over the zip thread's CPU
//! time, i.e. what one free core does: the product zips on one thread; on
//! a shared machine wall time is mostly someone else's load, so it is
//! printed too), and the modelled time of a whole upload over links of 50,
//! 100 and 200 MB/s. Zipping and uploading overlap (parts are uploaded while
//! the next ones are zipped), so the model is the slower stage:
//! max(zip CPU time, output bytes / link speed).
//!
//! Without DIR (as `cargo test --benches` runs it) it zips a small
//! generated tree under every policy and checks the archives read back.

#[allow(dead_code, unused_imports)] // the product uses more of these; their #[test]s do not run here
#[path = "../src/upload/walk.rs"]
mod walk;
#[allow(dead_code, unused_imports)] // the product uses more of these; their #[test]s do not run here
#[path = "../src/upload/zipstream.rs"]
mod zipstream;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use zipstream::{Compression, PartWriter, ZipProgress};

const fn policy(level: u8, store_incompressible: bool) -> Compression {
    Compression {
        level,
        store_incompressible,
    }
}

const POLICIES: &[(&str, Compression)] = &[
    ("store everything", policy(0, false)),
    ("deflate 1", policy(1, false)),
    ("deflate 6 (zlib default)", policy(6, false)),
    ("deflate 9", policy(9, false)),
    ("store incompressible + deflate 1 (build upload)", policy(1, true)),
    ("store incompressible + deflate 6", policy(6, true)),
];

const LINKS_MB_S: &[f64] = &[50.0, 100.0, 200.0];
const PART_SIZE: usize = 8 * 1024 * 1024;
const MB: f64 = 1e6;

struct Quiet;

impl ZipProgress for Quiet {
    fn file(&self, _name: &str) {}
    fn read(&self, _n: u64) {}
}

/// CPU time of the calling thread.
#[cfg(unix)]
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Elsewhere, wall time stands in.
#[cfg(not(unix))]
fn thread_cpu() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

struct Run {
    out: u64,
    wall: Duration,
    cpu: Duration,
    zip: Vec<u8>,
}

/// Zips `entries` once, on this thread; keeps the whole zip when `keep`
/// is set.
fn zip_once(entries: &[walk::Entry], compression: Compression, keep: bool) -> Run {
    // Capacity 1, as in the product: the zip thread runs at most one part
    // ahead of the consumer.
    let (tx, mut rx) = mpsc::channel::<zipstream::Part>(1);
    let consumer = std::thread::spawn(move || {
        let mut total = 0u64;
        let mut kept = Vec::new();
        while let Some(part) = rx.blocking_recv() {
            total += part.data.len() as u64;
            if keep {
                kept.extend_from_slice(&part.data);
            }
        }
        (total, kept)
    });
    let start = Instant::now();
    let cpu = thread_cpu();
    zipstream::zip_entries(entries, PartWriter::new(tx, PART_SIZE), &Quiet, compression).expect("zips");
    let cpu = thread_cpu() - cpu;
    let (out, zip) = consumer.join().expect("consumer thread");
    Run {
        out,
        wall: start.elapsed(),
        cpu,
        zip,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bench(dir: &Path, runs: usize) {
    let entries = walk::walk(dir).unwrap_or_else(|e| panic!("{e}"));
    let input: u64 = entries.iter().map(|e| e.len).sum();
    println!(
        "\n{}: {} files, {:.1} MB\n",
        dir.display(),
        entries.len(),
        input as f64 / MB
    );
    print!("| policy | output MB | ratio | zip MB/s (CPU) | zip MB/s (wall) |");
    for link in LINKS_MB_S {
        print!(" upload s @ {link:.0} MB/s |");
    }
    println!();
    println!("|---|---:|---:|---:|---:|{}", "---:|".repeat(LINKS_MB_S.len()));
    zip_once(&entries, policy(0, false), false); // warm the page cache
    for (name, compression) in POLICIES {
        let mut out = 0;
        let (cpu, wall): (Vec<Duration>, Vec<Duration>) = (0..runs)
            .map(|_| {
                let run = zip_once(&entries, *compression, false);
                out = run.out;
                (run.cpu, run.wall)
            })
            .unzip();
        let (cpu, wall) = (median(cpu).as_secs_f64(), median(wall).as_secs_f64());
        print!(
            "| {name} | {:.1} | {:.3} | {:.0} | {:.0} |",
            out as f64 / MB,
            out as f64 / input as f64,
            input as f64 / MB / cpu,
            input as f64 / MB / wall
        );
        for link in LINKS_MB_S {
            print!(" {:.2} |", cpu.max(out as f64 / MB / link));
        }
        println!();
    }
}

/// The `cargo test --benches` pass: every policy gives a zip that reads
/// back byte for byte, and deflating shrinks text.
fn self_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "{\"player\": 1, \"score\": 42}\n".repeat(20_000);
    std::fs::write(dir.path().join("scores.json"), &text).expect("write");
    let entries = walk::walk(dir.path()).expect("walks");
    let mut sizes = Vec::new();
    for (name, compression) in POLICIES {
        let run = zip_once(&entries, *compression, true);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(run.zip)).expect("a zip");
        let mut back = String::new();
        archive
            .by_name("scores.json")
            .expect("entry")
            .read_to_string(&mut back)
            .expect("reads");
        assert_eq!(back, text, "{name}");
        sizes.push(run.out);
    }
    assert!(sizes[1..].iter().all(|&s| s * 10 < sizes[0]), "{sizes:?}");
    println!("zip_levels self-check: ok ({} policies)", POLICIES.len());
}

fn main() {
    let mut runs = 3;
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => {} // what `cargo bench` passes
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            _ => dirs.push(arg.into()),
        }
    }
    if dirs.is_empty() {
        self_check();
    }
    for dir in &dirs {
        bench(dir, runs.max(1));
    }
}
