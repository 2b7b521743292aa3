//! upload, step two: zip the walked files straight into S3-sized parts.
//!
//! Runs on a blocking thread. `ZipWriter::new_stream` writes a zip that
//! needs no seeking (sizes and CRCs go in data descriptors), into a
//! [`PartWriter`] that cuts the stream into parts and hands each to the
//! uploader over a bounded channel, so at most (channel capacity + 1) parts
//! are ever held here: no temp file, memory independent of the build size.
//!
//! Compression ([`UPLOAD_COMPRESSION`]): deflate level 1, except that a
//! file of 64 KiB or more whose first 64 KiB do not shrink by 10% at level
//! 1 (already-compressed assets: textures, audio, pak files) is stored.
//! Shorter files are deflated without that probe, which would cost as
//! much as deflating them (deflate keeps incompressible blocks stored, so
//! such a file grows by a few bytes at most).
//!
//! Why, measured with benches/zip_levels.sh (this module, one thread, on
//! the 2-core CI machine while others loaded it; MB/s is input over the
//! zip thread's CPU time; the upload time models zip and upload
//! overlapping: max(zip time, output / link)):
//!
//! | tree | policy | output | zip MB/s | 50 MB/s | 100 MB/s | 200 MB/s |
//! |---|---|---:|---:|---:|---:|---:|
//! | mixed | store everything | 123.7 MB | 2284 | 2.47 s | 1.24 s | 0.62 s |
//! | mixed | deflate 1 | 110.0 MB | 151 | 2.20 s | 1.10 s | 0.82 s |
//! | mixed | deflate 6 | 110.3 MB | 32 | 3.92 s | 3.92 s | 3.92 s |
//! | mixed | deflate 9 | 110.3 MB | 31 | 3.94 s | 3.94 s | 3.94 s |
//! | mixed | **store incompressible + 1** | 110.0 MB | 230 | 2.20 s | 1.10 s | 0.55 s |
//! | compressible | store everything | 134.5 MB | 2350 | 2.69 s | 1.35 s | 0.67 s |
//! | compressible | deflate 1 | 46.9 MB | 180 | 0.94 s | 0.74 s | 0.74 s |
//! | compressible | deflate 6 | 38.1 MB | 34 | 3.97 s | 3.97 s | 3.97 s |
//! | compressible | deflate 9 | 37.9 MB | 20 | 6.80 s | 6.80 s | 6.80 s |
//! | compressible | **store incompressible + 1** | 46.9 MB | 176 | 0.94 s | 0.76 s | 0.76 s |
//!
//! "mixed" is benches/upload.sh's 123.7 MB tree (a 64 MiB random binary,
//! 300 base64 text files); "compressible" is 134 MB of executables, Rust
//! source, JSON, a PCM WAV and a raw RGBA texture.
//!
//! - Levels 6 and 9 save 19% over level 1 on compressible data and nothing
//!   on the mixed tree, but zip 5 to 9 times slower (20 to 34 MB/s): the
//!   upload becomes zip-bound at 4 to 7 s on every link from 50 to 200 MB/s.
//! - Storing everything sends 2.9 times the bytes of compressible data; it
//!   wins only on links faster than level 1 zips (about 180 MB/s a core):
//!   0.67 s against 0.76 s at 200 MB/s, but 2.69 s against 0.94 s at 50.
//! - Storing what does not compress makes the mixed tree zip 1.5 times
//!   faster than deflating all of it (230 against 151 MB/s), at the same
//!   size, which is what keeps the 200 MB/s case network-bound.
//! - The policy is the fastest or within 0.1 s of it at every link speed
//!   on both trees, and GameLift keeps, and copies to every fleet
//!   instance, the smaller zip. Probing files shorter than 64 KiB as well
//!   (the policy before it was measured) zipped the compressible tree at
//!   147 MB/s instead of 176.

use std::fs::File;
use std::io::{self, Read, Write};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::walk::Entry;

/// A numbered slice of the zip stream (S3 part numbers start at 1).
#[derive(Debug)]
pub struct Part {
    pub number: i32,
    pub data: Bytes,
}

/// Progress callbacks from the zipping thread.
pub trait ZipProgress: Send {
    /// A new file is being zipped.
    fn file(&self, name: &str);
    /// `n` more bytes of input were read.
    fn read(&self, n: u64);
}

/// Cuts a byte stream into `part_size` parts and sends each over `tx`.
pub struct PartWriter {
    tx: mpsc::Sender<Part>,
    part_size: usize,
    buf: BytesMut,
    next: i32,
}

impl PartWriter {
    pub fn new(tx: mpsc::Sender<Part>, part_size: usize) -> PartWriter {
        PartWriter {
            tx,
            part_size,
            buf: BytesMut::with_capacity(part_size),
            next: 1,
        }
    }

    fn send(&mut self) -> io::Result<()> {
        let data = std::mem::replace(&mut self.buf, BytesMut::with_capacity(self.part_size)).freeze();
        let part = Part {
            number: self.next,
            data,
        };
        self.next += 1;
        // Fails only when the uploader gave up (error or signal).
        self.tx
            .blocking_send(part)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }

    /// Sends the last (possibly short, never empty unless the zip is) part.
    pub fn finish(mut self) -> io::Result<()> {
        if !self.buf.is_empty() || self.next == 1 {
            self.send()?;
        }
        Ok(())
    }
}

impl Write for PartWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.part_size - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == self.part_size {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How file data goes into the zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// Deflate level, 1 (fastest) to 9 (smallest); 0 stores every file.
    pub level: u8,
    /// Store a file of [`SAMPLE`] bytes or more whose first [`SAMPLE`]
    /// bytes do not shrink by 10% at level 1, whatever `level` says.
    /// Shorter files are deflated unprobed: probing one costs as much as
    /// deflating it.
    pub store_incompressible: bool,
}

/// What `build upload` uses; see the module documentation for the figures
/// behind the choice.
pub const UPLOAD_COMPRESSION: Compression = Compression {
    level: 1,
    store_incompressible: true,
};

/// How many leading bytes decide between storing and deflating.
const SAMPLE: usize = 64 * 1024;

/// Whether deflate level 1 shrinks `sample` by at least 10%.
fn compresses(sample: &[u8]) -> bool {
    if sample.len() < 64 {
        return true; // tiny: the choice does not matter, deflate is fine
    }
    let mut enc = flate2::write::DeflateEncoder::new(Vec::with_capacity(sample.len()), flate2::Compression::fast());
    if enc.write_all(sample).is_err() {
        return false;
    }
    enc.finish().is_ok_and(|out| out.len() * 10 < sample.len() * 9)
}

/// Zips `entries` into `out` as `compression` says, sending the last part
/// at the end.
pub fn zip_entries(
    entries: &[Entry],
    out: PartWriter,
    progress: &dyn ZipProgress,
    compression: Compression,
) -> io::Result<()> {
    let mut zip = ZipWriter::new_stream(out);
    let mut buf = vec![0u8; 256 * 1024];
    for entry in entries {
        progress.file(&entry.name);
        let mut file = File::open(&entry.path)?;
        // Read the sample first; it is also the start of the data.
        let mut head = Vec::with_capacity(SAMPLE);
        (&mut file).take(SAMPLE as u64).read_to_end(&mut head)?;
        // `head` shorter than the sample is the whole file: deflate it
        // rather than compress it twice (the probe, then the entry);
        // deflate keeps incompressible blocks stored, so little is lost.
        let whole = head.len() < SAMPLE;
        let deflate = compression.level > 0 && (!compression.store_incompressible || whole || compresses(&head));
        let level = deflate.then_some(compression.level);
        let method = match level {
            Some(_) => CompressionMethod::Deflated,
            None => CompressionMethod::Stored,
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .compression_level(level.map(i64::from))
            .unix_permissions(entry.mode)
            // Zip64 when the file may pass 4 GiB (ZipWriter adds the Zip64
            // end records itself past 65,535 entries).
            .large_file(entry.len >= u64::from(u32::MAX) / 2);
        zip.start_file(entry.name.as_str(), options).map_err(io::Error::other)?;
        zip.write_all(&head)?;
        progress.read(head.len() as u64);
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            zip.write_all(&buf[..n])?;
            progress.read(n as u64);
        }
    }
    let stream = zip.finish().map_err(io::Error::other)?;
    stream.into_inner().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_cut_at_part_size() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut w = PartWriter::new(tx, 4);
        w.write_all(b"0123456789").expect("write");
        w.finish().expect("finish");
        let mut got = Vec::new();
        while let Ok(p) = rx.try_recv() {
            got.push((p.number, p.data.to_vec()));
        }
        assert_eq!(got, [(1, b"0123".to_vec()), (2, b"4567".to_vec()), (3, b"89".to_vec())]);
    }

    /// Zips `files` (name, bytes) under `compression` and reads the zip
    /// back: name → (method, compressed size), checking every file's bytes.
    fn zip_and_read(files: &[(&str, &[u8])], compression: Compression) -> Vec<(String, CompressionMethod, u64)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let entries: Vec<Entry> = files
            .iter()
            .map(|(name, data)| {
                std::fs::write(dir.path().join(name), data).expect("write");
                Entry {
                    name: (*name).to_owned(),
                    path: dir.path().join(name),
                    mode: 0o644,
                    len: data.len() as u64,
                }
            })
            .collect();
        let (tx, mut rx) = mpsc::channel(1024);
        struct Quiet;
        impl ZipProgress for Quiet {
            fn file(&self, _: &str) {}
            fn read(&self, _: u64) {}
        }
        zip_entries(&entries, PartWriter::new(tx, 1 << 20), &Quiet, compression).expect("zips");
        let mut zip = Vec::new();
        while let Ok(p) = rx.try_recv() {
            zip.extend_from_slice(&p.data);
        }
        let mut archive = zip::ZipArchive::new(io::Cursor::new(zip)).expect("a zip");
        files
            .iter()
            .map(|(name, data)| {
                let mut f = archive.by_name(name).expect("entry");
                let mut back = Vec::new();
                f.read_to_end(&mut back).expect("reads");
                assert_eq!(&back, data, "{name}");
                ((*name).to_owned(), f.compression(), f.compressed_size())
            })
            .collect()
    }

    #[test]
    fn short_files_skip_the_probe_and_incompressible_long_ones_are_stored() {
        let text = "fn main() { println!(\"hello\"); }\n".repeat(4000);
        let got = zip_and_read(
            &[
                ("big-noise.pak", &noise(3 * SAMPLE)),
                ("big-text.rs", text.as_bytes()),
                ("small-noise.png", &noise(SAMPLE / 2)),
            ],
            UPLOAD_COMPRESSION,
        );
        assert_eq!(got[0].1, CompressionMethod::Stored, "{got:?}");
        assert_eq!(got[1].1, CompressionMethod::Deflated, "{got:?}");
        assert!(got[1].2 * 10 < text.len() as u64, "{got:?}");
        // Deflated unprobed, and stored blocks keep it within 1% of its size.
        assert_eq!(got[2].1, CompressionMethod::Deflated, "{got:?}");
        assert!(got[2].2 <= (SAMPLE / 2 + SAMPLE / 200) as u64, "{got:?}");

        let stored = zip_and_read(
            &[("a.rs", text.as_bytes())],
            Compression {
                level: 0,
                store_incompressible: false,
            },
        );
        assert_eq!(stored[0].1, CompressionMethod::Stored);
        let nine = zip_and_read(
            &[("a.pak", &noise(3 * SAMPLE))],
            Compression {
                level: 9,
                store_incompressible: false,
            },
        );
        assert_eq!(nine[0].1, CompressionMethod::Deflated);
    }

    /// A xorshift stream: does not compress.
    fn noise(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn random_data_is_stored_and_text_deflated() {
        let text = "fn main() { println!(\"hello\"); }\n".repeat(4000);
        assert!(compresses(text.as_bytes()));
        // A xorshift stream does not compress.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..SAMPLE)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(!compresses(&noise));
    }
}
