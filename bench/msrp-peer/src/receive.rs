//! The receiving side (mail → IM): the gateway connects as the active
//! party (RFC 4975 §5.4) and sends SEND chunks; each is answered 200 at
//! once (§7.2), the answers to the chunks of one read in one write.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Instant;

use interwork_proto::msrp::{self, Continuation, Frame, Method, Response};

use crate::frames::FrameReader;

/// What one message took, as the peer saw it.
pub struct Received {
    /// Body bytes of all chunks.
    pub bytes: usize,
    /// SEND chunks.
    pub chunks: usize,
    /// From the first chunk's arrival to the last chunk's.
    pub seconds: f64,
}

/// Accepts connections on `listener` until `count` complete messages came;
/// prints one JSON line per message.
pub fn run(listener: TcpListener, count: usize) -> anyhow::Result<()> {
    let (done, results) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let done = done.clone();
            std::thread::spawn(move || {
                if let Err(e) = serve(stream, &done) {
                    eprintln!("msrp-peer: connection: {e:#}");
                }
            });
        }
    });
    for _ in 0..count {
        let r: Received = results.recv()?;
        println!(
            "{{\"bytes\": {}, \"chunks\": {}, \"seconds\": {:.6}}}",
            r.bytes, r.chunks, r.seconds
        );
    }
    Ok(())
}

fn serve(stream: TcpStream, done: &mpsc::Sender<Received>) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut frames = FrameReader::new(stream);
    let mut out = Vec::new();
    let (mut bytes, mut chunks, mut first) = (0usize, 0usize, None);
    while let Some(frame) = frames.next_frame()? {
        // The frames this read brought, answered in one write.
        let mut next = Some(frame);
        let mut complete = None;
        while let Some(frame) = next {
            if let Frame::Request(request) = frame
                && request.method == Method::Send
            {
                let first_at = *first.get_or_insert_with(Instant::now);
                bytes += request.body.len();
                chunks += 1;
                if request.expects_response(200) {
                    let response = Response::to_request(&request, 200, Some("OK"));
                    msrp::write(&Frame::Response(response), &mut out);
                }
                if request.continuation == Continuation::Complete {
                    complete = Some(Received {
                        bytes,
                        chunks,
                        seconds: first_at.elapsed().as_secs_f64(),
                    });
                    (bytes, chunks, first) = (0, 0, None);
                }
            }
            next = frames.buffered_frame()?;
        }
        writer.write_all(&out)?;
        out.clear();
        if let Some(received) = complete {
            done.send(received)?;
        }
    }
    Ok(())
}
