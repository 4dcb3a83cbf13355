//! The one framed reader of the gateway's stream protocols (SIP over TCP,
//! MSRP): a buffer, an incremental sans-IO parser of `interwork-proto` and
//! the bytes a peer may make it hold, in one place. Every TCP read loop —
//! SIP server and client connections, MSRP server and client — reads its
//! frames through [`FramedReader::read_frame`].

use interwork_proto::{msrp, sip};
use tokio::io::{AsyncRead, AsyncReadExt};

/// A sans-IO stream format: `parse` finds the first complete frame at the
/// start of the buffer and says how many bytes it took, or `None` when it
/// needs more. Parsers bound what they hold themselves (header and body
/// limits); `idle_prefix` lets a format drop what comes between frames.
pub trait StreamFormat {
    /// One parsed frame.
    type Frame;
    /// Why bytes cannot be framed; the stream cannot be trusted after it.
    type Error: std::error::Error;

    /// The first complete frame of `buf` and its length in bytes.
    fn parse(&self, buf: &[u8]) -> Result<Option<(Self::Frame, usize)>, Self::Error>;

    /// Bytes at the start of `buf` that belong to no frame and can be
    /// dropped while waiting for the next one.
    fn idle_prefix(&self, _buf: &[u8]) -> usize {
        0
    }
}

/// SIP over a stream transport, framed by Content-Length (RFC 3261 §18.3).
#[derive(Debug, Clone, Copy)]
pub struct SipStream(pub sip::Limits);

/// What comes over a SIP stream.
#[derive(Debug)]
pub enum SipFrame {
    /// A request or response.
    Message(sip::Message),
    /// A keep-alive ping, CRLF CRLF (RFC 5626 §3.5.1): answer with one CRLF.
    Ping,
}

const PING: &[u8] = b"\r\n\r\n";

impl StreamFormat for SipStream {
    type Frame = SipFrame;
    type Error = sip::SipError;

    fn parse(&self, buf: &[u8]) -> Result<Option<(SipFrame, usize)>, sip::SipError> {
        if buf.starts_with(PING) {
            return Ok(Some((SipFrame::Ping, PING.len())));
        }
        Ok(sip::parse_stream(buf, &self.0)?.map(|(m, used)| (SipFrame::Message(m), used)))
    }

    /// A lone CRLF between messages (a pong) is dropped once the byte after
    /// it shows it is not the first half of a ping, so that a peer that
    /// sends only those cannot grow the buffer.
    fn idle_prefix(&self, buf: &[u8]) -> usize {
        match buf {
            [b'\r', b'\n', next, ..] if *next != b'\r' => 2,
            _ => 0,
        }
    }
}

/// MSRP frames (RFC 4975 §7), framed by their end-line.
#[derive(Debug, Clone, Copy)]
pub struct MsrpStream(pub msrp::Limits);

impl StreamFormat for MsrpStream {
    type Frame = msrp::Frame;
    type Error = msrp::MsrpError;

    fn parse(&self, buf: &[u8]) -> Result<Option<(msrp::Frame, usize)>, msrp::MsrpError> {
        msrp::parse(buf, &self.0)
    }
}

/// Why no frame came.
#[derive(Debug, thiserror::Error)]
pub enum FrameError<E: std::error::Error> {
    /// The bytes are not the protocol (RFC 4975 §7.3, RFC 3261 §18.3: the
    /// connection cannot be re-synchronised).
    #[error("{0}")]
    Parse(E),
    /// The peer closed the connection in the middle of a frame.
    #[error("connection closed inside a frame ({0} bytes unframed)")]
    Truncated(usize),
    /// The connection failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Frames read from a byte stream.
pub struct FramedReader<R, F> {
    reader: R,
    format: F,
    buf: Vec<u8>,
    /// Where the unframed bytes of `buf` start: frames are consumed by
    /// moving it, and the buffer is compacted only before a read, so that
    /// many small frames from one read (MSRP responses to a window of
    /// chunks) are not each followed by a move of all the rest.
    start: usize,
    read_size: usize,
}

impl<R: AsyncRead + Unpin, F: StreamFormat> FramedReader<R, F> {
    /// Reads `format` frames from `reader`, `read_size` bytes at a time.
    pub fn new(reader: R, format: F, read_size: usize) -> Self {
        Self {
            reader,
            format,
            buf: Vec::with_capacity(read_size),
            start: 0,
            read_size,
        }
    }

    /// The next frame; `Ok(None)` when the peer closed the connection
    /// between frames. Cancel-safe: dropping the future (a timeout) loses
    /// nothing, bytes read so far stay buffered for the next call.
    pub async fn read_frame(&mut self) -> Result<Option<F::Frame>, FrameError<F::Error>> {
        loop {
            let unframed = &self.buf[self.start..];
            if let Some((frame, used)) = self.format.parse(unframed).map_err(FrameError::Parse)? {
                self.start += used;
                return Ok(Some(frame));
            }
            let idle = self.format.idle_prefix(unframed);
            self.buf.drain(..self.start + idle);
            self.start = 0;
            // Straight into the buffer's spare room: no second copy.
            self.buf.reserve(self.read_size);
            let n = self.reader.read_buf(&mut self.buf).await?;
            if n == 0 {
                return match self.buf.len() {
                    0 => Ok(None),
                    left => Err(FrameError::Truncated(left)),
                };
            }
        }
    }

    /// What is buffered and not yet framed (to answer a framing error).
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"MESSAGE sip:b@x.test SIP/2.0\r\n\
        Via: SIP/2.0/TCP 127.0.0.1:5061;branch=z9hG4bK-1\r\n\
        From: <sip:a@im.example.test>;tag=1\r\nTo: <sip:b@x.test>\r\nCall-ID: c1\r\n\
        CSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\r\nhi";

    #[tokio::test]
    async fn frames_split_across_reads_and_keepalives_between_them() {
        let (mut client, server) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            client.write_all(b"\r\n\r\n").await.unwrap();
            for piece in MESSAGE.chunks(7) {
                client.write_all(piece).await.unwrap();
            }
            client.write_all(b"\r\n\r\n").await.unwrap();
            client.write_all(MESSAGE).await.unwrap();
        });
        let mut framed = FramedReader::new(server, SipStream(sip::Limits::default()), 16);
        for _ in 0..2 {
            assert!(matches!(
                framed.read_frame().await,
                Ok(Some(SipFrame::Ping))
            ));
            match framed.read_frame().await.unwrap() {
                Some(SipFrame::Message(sip::Message::Request(r))) => assert_eq!(r.body, b"hi"),
                other => panic!("{other:?}"),
            }
        }
        writer.await.unwrap();
        assert!(framed.read_frame().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_many_frames_of_one_read_come_out_one_by_one() {
        // The answers to a window of MSRP chunks arrive together.
        let response = b"MSRP tid1 200 OK\r\nTo-Path: msrp://a.example.test:2855/s1;tcp\r\n\
            From-Path: msrp://b.example.test:2855/s2;tcp\r\n-------tid1$\r\n";
        let (mut client, server) = tokio::io::duplex(1 << 20);
        use tokio::io::AsyncWriteExt;
        client.write_all(&response.repeat(500)).await.unwrap();
        client.write_all(&response[..20]).await.unwrap();
        drop(client);
        let mut framed = FramedReader::new(server, MsrpStream(msrp::Limits::default()), 64 * 1024);
        for _ in 0..500 {
            let frame = framed.read_frame().await.unwrap();
            assert!(matches!(frame, Some(msrp::Frame::Response(_))), "{frame:?}");
        }
        assert!(matches!(
            framed.read_frame().await,
            Err(FrameError::Truncated(20))
        ));
    }

    #[tokio::test]
    async fn keepalives_are_pings_and_lone_crlfs_do_not_accumulate() {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        use tokio::io::AsyncWriteExt;
        // 5,000 pings, then pongs (lone CRLFs) between messages.
        client.write_all(&b"\r\n".repeat(10_000)).await.unwrap();
        let mut framed = FramedReader::new(server, SipStream(sip::Limits::default()), 1024);
        for _ in 0..5_000 {
            assert!(matches!(
                framed.read_frame().await,
                Ok(Some(SipFrame::Ping))
            ));
        }
        for _ in 0..1_000 {
            client.write_all(b"\r\n").await.unwrap();
            client.write_all(MESSAGE).await.unwrap();
            let frame = framed.read_frame().await.unwrap();
            assert!(matches!(frame, Some(SipFrame::Message(_))), "{frame:?}");
            assert!(framed.buffered().len() < 1024);
        }
    }

    #[tokio::test]
    async fn a_ping_that_arrives_a_byte_at_a_time_is_one_ping() {
        let (mut client, server) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for byte in b"\r\n\r\n" {
                client.write_all(&[*byte]).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            client
        });
        let mut framed = FramedReader::new(server, SipStream(sip::Limits::default()), 64);
        let frame = tokio::time::timeout(std::time::Duration::from_secs(2), framed.read_frame())
            .await
            .expect("the ping was taken for a pong and a stray CR");
        assert!(matches!(frame, Ok(Some(SipFrame::Ping))), "{frame:?}");
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn a_close_inside_a_frame_and_garbage_are_errors() {
        let (mut client, server) = tokio::io::duplex(1024);
        use tokio::io::AsyncWriteExt;
        client.write_all(&MESSAGE[..40]).await.unwrap();
        drop(client);
        let mut framed = FramedReader::new(server, SipStream(sip::Limits::default()), 1024);
        assert!(matches!(
            framed.read_frame().await,
            Err(FrameError::Truncated(40))
        ));

        let (mut client, server) = tokio::io::duplex(1024);
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut framed = FramedReader::new(server, MsrpStream(msrp::Limits::default()), 1024);
        assert!(matches!(
            framed.read_frame().await,
            Err(FrameError::Parse(msrp::MsrpError::NotMsrp))
        ));
    }
}
