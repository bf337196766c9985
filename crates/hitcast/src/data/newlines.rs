//! Line endings made one: a reader that turns CRLF and a lone CR into LF before csv sees them.
//!
//! csv accepts all three endings but counts lines at `\n` alone, and starts a record after a
//! CRLF's `\r`: without this, rows after a CRLF (Windows, Excel) would be numbered one line short,
//! and rows after an old Mac's lone CR not counted at all, in files that mix them as well.

use std::io::{self, BufRead, Read};

/// Reads `inner` with every `\r\n` and every lone `\r` as `\n` (inside quoted fields too, as
/// Python's universal newlines do).
pub(super) struct Newlines<R> {
    inner: R,
    /// The last byte handed out was a `\r` turned into `\n`: a `\n` next is its pair, dropped.
    after_cr: bool,
}

impl<R: BufRead> Newlines<R> {
    pub(super) fn new(inner: R) -> Newlines<R> {
        Newlines {
            inner,
            after_cr: false,
        }
    }
}

impl<R: BufRead> Read for Newlines<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(0);
            }
            let mut used = 0;
            if self.after_cr && buf[0] == b'\n' {
                used = 1;
            }
            self.after_cr = false;
            let mut n = 0;
            while used < buf.len() && n < out.len() {
                let rest = &buf[used..];
                let room = (out.len() - n).min(rest.len());
                // Copy up to the next '\r' in one go: most files have none, or one a line.
                let span = memchr::memchr(b'\r', &rest[..room]).unwrap_or(room);
                out[n..n + span].copy_from_slice(&rest[..span]);
                n += span;
                used += span;
                if span == room {
                    break;
                }
                out[n] = b'\n';
                n += 1;
                used += 1;
                match buf.get(used) {
                    Some(b'\n') => used += 1,
                    Some(_) => {}
                    // The buffer ends on the '\r': its '\n', if any, comes with the next fill.
                    None => self.after_cr = true,
                }
            }
            self.inner.consume(used);
            // Zero bytes out only when this fill held just a CRLF's '\n': read on.
            if n > 0 {
                return Ok(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    /// Reads all of `input` through [`Newlines`], the inner buffer `capacity` bytes and each
    /// read at most `chunk`.
    fn through(input: &[u8], capacity: usize, chunk: usize) -> Vec<u8> {
        let mut reader = Newlines::new(BufReader::with_capacity(capacity, input));
        let mut all = Vec::new();
        let mut out = vec![0; chunk];
        loop {
            let n = reader.read(&mut out).unwrap();
            if n == 0 {
                return all;
            }
            all.extend_from_slice(&out[..n]);
        }
    }

    #[test]
    fn every_ending_becomes_lf_at_any_buffer_split() {
        let input = b"a,b\r\n1,2\r3,4\n\r\n\"x\r\ny\",5\r\r\n6";
        let want = b"a,b\n1,2\n3,4\n\n\"x\ny\",5\n\n6";
        for capacity in 1..=input.len() + 1 {
            for chunk in 1..=input.len() + 1 {
                assert_eq!(
                    through(input, capacity, chunk),
                    want,
                    "capacity {capacity}, chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn plain_lf_text_passes_unchanged() {
        let input = b"track_id,popularity\nx,1\ny,2\n";
        assert_eq!(through(input, 4, 3), input);
        assert_eq!(through(b"", 4, 3), b"");
        assert_eq!(through(b"\r", 4, 3), b"\n");
    }
}
