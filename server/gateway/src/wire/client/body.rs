//! An answer's body still on the wire, decoded as it is read, its connection
//! given back to the pool the moment the message ends (data plane).

use super::READ_CHUNK;
use super::answer::{Chunk, Framing};
use super::pool::{Conn, release};
use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Chunk-size lines and trailer lines longer than this (without their line
/// end) are refused.
const MAX_LINE: usize = 4096;

/// An answer's body still on the wire.
pub(super) struct Incoming {
    /// `None` once the body has ended (the connection is back in the pool or closed).
    pub(super) conn: Option<Conn>,
    pub(super) framing: Framing,
    pub(super) reusable: bool,
}

impl Incoming {
    fn finish(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.reusable
        {
            release(conn);
        }
    }

    fn fail(&mut self, what: &'static str) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.conn = None;
        Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::InvalidData, what))))
    }
}

/// Reads more of the answer; `Ok(0)` is the upstream closing.
fn poll_fill(conn: &mut Conn, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
    conn.read.reserve(READ_CHUNK);
    tokio_util::io::poll_read_buf(Pin::new(&mut conn.io), cx, &mut conn.read)
}

/// One CRLF-terminated line off the front of `buf`, without its terminator;
/// `Some(Err(()))` once the line is known to be longer than [`MAX_LINE`], so
/// that the verdict never depends on where the reads happened to split it.
fn take_line(buf: &mut BytesMut) -> Option<Result<Bytes, ()>> {
    // Room for a line of MAX_LINE bytes and its CRLF.
    let window = &buf[..buf.len().min(MAX_LINE + 2)];
    match window.iter().position(|&b| b == b'\n') {
        Some(end) => {
            let mut line = buf.split_to(end + 1);
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            if line.len() > MAX_LINE {
                return Some(Err(()));
            }
            Some(Ok(line.freeze()))
        }
        None if window.len() > MAX_LINE + 1 => Some(Err(())),
        None => None,
    }
}

/// A chunk-size line: hex digits, then optional extensions (ignored).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let d = (b as char).to_digit(16)?;
        Some(n << 4 | u64::from(d))
    })
}

/// What [`advance`] made of the bytes buffered so far.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Body bytes, ready to pass on.
    Data(Bytes),
    /// Nothing can be decided until more is read.
    More,
    /// The message has ended; what is left in the buffer belongs to the next one.
    End,
    /// The framing is broken: the connection can carry nothing more.
    Fail(&'static str),
}

/// Decodes what `read` holds under `framing`, without I/O: the state machine
/// the body runs between reads, kept pure so that it can be tested and fuzzed
/// on any split of the input.
pub(super) fn advance(framing: &mut Framing, read: &mut BytesMut) -> Step {
    loop {
        match framing {
            Framing::Length(0) => return Step::End,
            Framing::Length(left) => {
                if read.is_empty() {
                    return Step::More;
                }
                let take = (*left).min(read.len() as u64);
                *left -= take;
                return Step::Data(read.split_to(take as usize).freeze());
            }
            Framing::Close => {
                if read.is_empty() {
                    return Step::More;
                }
                return Step::Data(read.split().freeze());
            }
            Framing::Chunked(state) => match *state {
                Chunk::Size => match take_line(read) {
                    Some(Ok(line)) => match chunk_size(&line) {
                        Some(0) => *state = Chunk::Trailers,
                        Some(n) => *state = Chunk::Data(n),
                        None => return Step::Fail("malformed chunk size from upstream"),
                    },
                    Some(Err(())) => return Step::Fail("chunk size line too long"),
                    None => return Step::More,
                },
                Chunk::Data(left) => {
                    if read.is_empty() {
                        return Step::More;
                    }
                    let take = left.min(read.len() as u64);
                    *state = match left - take {
                        0 => Chunk::DataEnd,
                        left => Chunk::Data(left),
                    };
                    return Step::Data(read.split_to(take as usize).freeze());
                }
                Chunk::DataEnd => match take_line(read) {
                    Some(Ok(line)) if line.is_empty() => *state = Chunk::Size,
                    Some(_) => return Step::Fail("chunk data longer than its size"),
                    None if read.len() > 2 => {
                        return Step::Fail("chunk data longer than its size");
                    }
                    None => return Step::More,
                },
                // Trailers are read and dropped: they would describe the
                // upstream's message, and few clients read them.
                Chunk::Trailers => match take_line(read) {
                    Some(Ok(line)) if line.is_empty() => *framing = Framing::Length(0),
                    Some(Ok(_)) => {}
                    Some(Err(())) => return Step::Fail("trailer line too long"),
                    None => return Step::More,
                },
            },
        }
    }
}

/// A chunked body decoded from `wire`, read `step` bytes at a time, and how it
/// ended: `Some(true)` at the message's end, `Some(false)` on a framing error,
/// `None` still waiting for more. For the tests and the fuzz target, which
/// check that the outcome never depends on where the reads split.
#[cfg(any(test, feature = "fuzzing"))]
pub(super) fn decode_chunked(wire: &[u8], step: usize) -> (Vec<u8>, Option<bool>) {
    let mut framing = Framing::Chunked(Chunk::Size);
    let mut read = BytesMut::new();
    let mut body = Vec::new();
    let mut pieces = wire.chunks(step.max(1));
    loop {
        match advance(&mut framing, &mut read) {
            Step::Data(data) => body.extend_from_slice(&data),
            Step::End => return (body, Some(true)),
            Step::Fail(_) => return (body, Some(false)),
            Step::More => match pieces.next() {
                Some(piece) => read.extend_from_slice(piece),
                None => return (body, None),
            },
        }
    }
}

impl http_body::Body for Incoming {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        loop {
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match advance(&mut this.framing, &mut conn.read) {
                Step::Data(data) => {
                    if this.framing == Framing::Length(0) {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Step::End => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Step::Fail(what) => return this.fail(what),
                Step::More => {}
            }
            match ready!(poll_fill(conn, cx)) {
                Ok(0) if this.framing == Framing::Close => {
                    this.conn = None;
                    return Poll::Ready(None);
                }
                Ok(0) => return this.fail("upstream closed the connection mid-body"),
                Ok(_) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.conn.is_none() || self.framing == Framing::Length(0)
    }

    fn size_hint(&self) -> SizeHint {
        match self.framing {
            Framing::Length(left) => SizeHint::with_exact(left),
            _ => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;

    #[test]
    fn chunk_sizes_with_and_without_extensions() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"FF;name=value"), Some(255));
        assert_eq!(chunk_size(b"0"), Some(0));
        assert_eq!(chunk_size(b""), None);
        assert_eq!(chunk_size(b"zz"), None);
        assert_eq!(chunk_size(b"11111111111111111"), None);
    }
    #[test]
    fn the_verdict_never_depends_on_where_reads_split() {
        let long_trailer = format!("1\r\nx\r\n0\r\nx-long: {}\r\n\r\n", "v".repeat(MAX_LINE));
        let long_extension = format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(MAX_LINE));
        let fine = "4\r\nWiki\r\n0\r\nTrailer: x\r\n\r\n".to_string();
        // A trailer line of exactly MAX_LINE bytes is within the limit, with
        // CRLF or a bare LF; one byte more is not.
        let at_limit = format!("1\r\nx\r\n0\r\n{}\r\n\r\n", "t".repeat(MAX_LINE));
        let bare_lf = format!("1\r\nx\r\n0\r\n{}\n\r\n", "t".repeat(MAX_LINE));
        let over = format!("1\r\nx\r\n0\r\n{}\n\r\n", "t".repeat(MAX_LINE + 1));
        for (wire, verdict) in [
            (long_trailer, Some(false)),
            (long_extension, Some(false)),
            (fine, Some(true)),
            (at_limit, Some(true)),
            (bare_lf, Some(true)),
            (over, Some(false)),
        ] {
            let whole = decode_chunked(wire.as_bytes(), wire.len());
            assert_eq!(whole.1, verdict, "{wire:.40}");
            for step in 1..=17 {
                assert_eq!(decode_chunked(wire.as_bytes(), step), whole, "step {step}");
            }
        }
    }

    /// Runs the body decoder over `wire`, fed in pieces of `step` bytes.
    async fn decode(wire: &'static [u8], framing: Framing, step: usize) -> Result<Vec<u8>, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            // The reader may stop early on a framing error.
            for piece in wire.chunks(step) {
                if socket.write_all(piece).await.is_err() {
                    break;
                }
                tokio::task::yield_now().await;
            }
        });
        let io = TcpStream::connect(addr).await.unwrap();
        let body = Incoming {
            conn: Some(Conn {
                io: super::super::stream::Stream::Plain(io),
                key: "test".into(),
                tls: false,
                guarded: 0,
                read: BytesMut::new(),
                write: Vec::new(),
                deadline: Box::pin(tokio::time::sleep(std::time::Duration::from_secs(60))),
                used: std::time::Instant::now(),
            }),
            framing,
            reusable: false,
        };
        let result = axum::body::to_bytes(Body::new(body), usize::MAX).await;
        writer.await.unwrap();
        result.map(|b| b.to_vec()).map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn bodies_decode_whatever_the_read_boundaries() {
        let chunked =
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n";
        for step in [1, 3, 7, chunked.len()] {
            assert_eq!(
                decode(chunked, Framing::Chunked(Chunk::Size), step)
                    .await
                    .unwrap(),
                b"Wikipedia in\r\n\r\nchunks."
            );
            assert_eq!(
                decode(b"hello world", Framing::Length(11), step)
                    .await
                    .unwrap(),
                b"hello world"
            );
        }
        assert_eq!(
            decode(b"until the end", Framing::Close, 4).await.unwrap(),
            b"until the end"
        );
        // Cut short, or framed wrongly: an error, never a silently short body.
        assert!(decode(b"hello", Framing::Length(11), 2).await.is_err());
        assert!(
            decode(
                b"4\r\nWikiXX\r\n0\r\n\r\n",
                Framing::Chunked(Chunk::Size),
                3
            )
            .await
            .is_err()
        );
        assert!(
            decode(b"q\r\n", Framing::Chunked(Chunk::Size), 3)
                .await
                .is_err()
        );
        assert!(
            decode(b"4\r\nWi", Framing::Chunked(Chunk::Size), 3)
                .await
                .is_err()
        );
    }
}
