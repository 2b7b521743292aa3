//! upload, step two: zip the walked files straight into S3-sized parts.
//!
//! Runs on a blocking thread. `ZipWriter::new_stream` writes a zip that
//! needs no seeking (sizes and CRCs go in data descriptors), into a
//! [`PartWriter`] that cuts the stream into parts and hands each to the
//! uploader over a bounded channel, so at most (channel capacity + 1) parts
//! are ever held here: no temp file, memory independent of the build size.
//!
//! Compression: a file whose first 64 KiB do not shrink by at least 10%
//! at deflate level 1 (already-compressed assets: textures, audio, pak
//! files) is stored; everything else is deflated at level 1, the fastest
//! level: storing data that does not compress avoids burning CPU for no
//! gain. (The level has not been benchmarked against others yet;
//! benches/upload.sh is where that belongs.)

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
    /// Store a file whose first [`SAMPLE`] bytes do not shrink by 10% at
    /// level 1, whatever `level` says.
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
        let deflate = compression.level > 0 && (!compression.store_incompressible || compresses(&head));
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
