//! MSRP frames off a blocking TCP stream, on the gateway's sans-IO parser
//! (`interwork_proto::msrp::parse`).

use std::io::Read;
use std::net::TcpStream;

use anyhow::{Context, bail};
use interwork_proto::msrp::{self, Frame, Limits};

/// Bytes asked of the socket per read: large, so that a 10 MiB message
/// takes few system calls.
const READ_BYTES: usize = 256 * 1024;

/// Reads whole frames from one connection.
pub struct FrameReader {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    limits: Limits,
}

impl FrameReader {
    /// A reader accepting chunks of up to 16 MiB (the gateway's own
    /// limits are its business; the peer takes whatever it is sent).
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::with_capacity(2 * READ_BYTES),
            start: 0,
            limits: Limits {
                max_body_bytes: 16 * 1024 * 1024,
                ..Limits::default()
            },
        }
    }

    /// A frame already read whole, without reading more.
    pub fn buffered_frame(&mut self) -> anyhow::Result<Option<Frame>> {
        let parsed = msrp::parse(&self.buf[self.start..], &self.limits).context("an MSRP frame")?;
        Ok(parsed.map(|(frame, used)| {
            self.start += used;
            frame
        }))
    }

    /// The next frame; `None` when the peer closed the connection between
    /// frames.
    pub fn next_frame(&mut self) -> anyhow::Result<Option<Frame>> {
        loop {
            if let Some(frame) = self.buffered_frame()? {
                return Ok(Some(frame));
            }
            // Keep only the unread tail before reading more.
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let len = self.buf.len();
            self.buf.resize(len + READ_BYTES, 0);
            let n = self.stream.read(&mut self.buf[len..])?;
            self.buf.truncate(len + n);
            if n == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                bail!("connection closed inside a frame");
            }
        }
    }
}
