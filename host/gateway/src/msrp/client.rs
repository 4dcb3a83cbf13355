//! Sending one message over an MSRP session the gateway set up with its own
//! INVITE (SPEC S6, large-message mode): the gateway is the active side
//! (RFC 4975 §5.4), connects to the first URI of the peer's path, sends
//! SEND chunks and waits for each chunk's transaction response (§7.1.1).

use std::time::Duration;

use interwork_proto::msrp::{self, Frame, MsrpUri};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::framed::{FramedReader, MsrpStream};

/// Largest SEND body the gateway writes.
pub const CHUNK_BYTES: usize = 2048;

/// Sends `content` (a `message/cpim` body) to `path` from `our_uri`, all
/// chunks answered 200 within `timeout`; `Err` says what went wrong.
pub async fn send_message(
    path: &[MsrpUri],
    our_uri: &MsrpUri,
    content: &[u8],
    timeout: Duration,
) -> Result<(), String> {
    let first = path.first().ok_or("the answer has no usable a=path")?;
    let host = first.host.trim_matches(['[', ']']).to_string();
    let port = first.port.unwrap_or(2855);
    let work = async {
        let stream = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        let (reader, mut writer) = stream.into_split();
        let mut frames = FramedReader::new(reader, MsrpStream(msrp::Limits::default()), 16 * 1024);
        let chunks = msrp::chunk(
            content,
            "message/cpim",
            &crate::ids::token(),
            CHUNK_BYTES,
            crate::ids::token,
            path,
            std::slice::from_ref(our_uri),
        );
        for chunk in chunks {
            let tid = chunk.transaction_id.clone();
            let mut bytes = Vec::new();
            msrp::write(&Frame::Request(chunk), &mut bytes);
            writer.write_all(&bytes).await.map_err(|e| e.to_string())?;
            // Wait for this chunk's transaction response (§7.1.1).
            loop {
                match frames.read_frame().await.map_err(|e| e.to_string())? {
                    Some(Frame::Response(r)) if r.transaction_id == tid && r.code == 200 => break,
                    Some(Frame::Response(r)) if r.transaction_id == tid => {
                        return Err(format!("{} {}", r.code, r.comment.unwrap_or_default()));
                    }
                    Some(_) => continue,
                    None => return Err("connection closed".to_string()),
                }
            }
        }
        Ok::<(), String>(())
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}
