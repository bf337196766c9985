//! Gzip decompression on a helper thread, so inflating and CSV parsing overlap on two cores
//! (inflating is a good part of a gzipped file's load time: docs/performance.md).

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread;

use flate2::read::MultiGzDecoder;

const CHUNK: usize = 1 << 18;
/// Chunks in flight: bounds memory to a few MB whatever the file size.
const QUEUE: usize = 4;

/// A reader over the decompressed bytes of a gzip stream, inflated ahead on another thread.
pub(crate) struct ThreadedGz {
    chunks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ThreadedGz {
    /// Starts inflating `compressed` on a new thread.
    pub(crate) fn new<R: Read + Send + 'static>(compressed: R) -> ThreadedGz {
        let (tx, rx) = sync_channel(QUEUE);
        thread::spawn(move || {
            let mut decoder = MultiGzDecoder::new(compressed);
            loop {
                let mut chunk = vec![0; CHUNK];
                let mut filled = 0;
                // Fill whole chunks: fewer, larger messages.
                let result = loop {
                    match decoder.read(&mut chunk[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == CHUNK {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                chunk.truncate(filled);
                let last = filled < CHUNK;
                let message = match result {
                    Ok(()) if filled == 0 => break,
                    Ok(()) => Ok(chunk),
                    Err(e) => {
                        // Bytes before the failure are still delivered, then the error.
                        if filled > 0 && tx.send(Ok(chunk)).is_err() {
                            break;
                        }
                        let _ = tx.send(Err(e));
                        break;
                    }
                };
                // A closed channel means the reader was dropped: stop quietly.
                if tx.send(message).is_err() || last {
                    break;
                }
            }
        });
        ThreadedGz {
            chunks: rx,
            current: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for ThreadedGz {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread finished: end of stream.
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn round_trips_data_larger_than_the_queue() {
        let data: Vec<u8> = (0..CHUNK * (QUEUE + 3) + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut out = Vec::new();
        ThreadedGz::new(io::Cursor::new(gzip(&data)))
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn concatenated_members_are_read_whole() {
        let mut both = gzip(b"a,b\n");
        both.extend(gzip(b"1,2\n"));
        let mut out = String::new();
        ThreadedGz::new(io::Cursor::new(both))
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "a,b\n1,2\n");
    }

    #[test]
    fn truncation_is_an_error_after_the_good_bytes() {
        let data = vec![b'x'; 100_000];
        let gz = gzip(&data);
        let mut out = Vec::new();
        let err = ThreadedGz::new(io::Cursor::new(gz[..gz.len() / 2].to_vec()))
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
