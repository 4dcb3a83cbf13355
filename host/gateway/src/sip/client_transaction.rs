//! Client transactions (RFC 3261 §17.1.2, non-INVITE): send a request to an
//! IM system's next hop and wait for its final response, retransmitting
//! over UDP (Timer E: T1 doubling up to T2) until Timer F.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use interwork_proto::sip::{self, Message, Request, Response};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

use super::{T1, T2};
use crate::framed::{FramedReader, SipFrame, SipStream};

/// Why no final response came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Timer F (or the TCP equivalent) fired.
    #[error("no final response within {0:?}")]
    Timeout(Duration),
    /// The request could not be sent, or the connection broke.
    #[error("transport error: {0}")]
    Transport(String),
}

/// Requests in flight, by the branch of the Via the gateway put on them.
#[derive(Default)]
pub struct ClientTransactions {
    waiting: Mutex<HashMap<String, mpsc::UnboundedSender<Response>>>,
}

impl ClientTransactions {
    /// Hands a response to the transaction it answers; false when none
    /// waits for it (a late retransmission).
    pub fn route(&self, response: Response) -> bool {
        let branch = response
            .headers
            .get_all("Via")
            .first()
            .and_then(|v| sip::Via::parse(v).ok())
            .and_then(|v| v.param("branch").map(str::to_string));
        let Some(branch) = branch else { return false };
        let waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting
            .get(&branch)
            .is_some_and(|tx| tx.send(response).is_ok())
    }

    fn register(&self, branch: &str) -> mpsc::UnboundedReceiver<Response> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.insert(branch.to_string(), tx);
        rx
    }

    fn forget(&self, branch: &str) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.remove(branch);
    }

    /// Sends over UDP from the server's own socket (so that responses come
    /// back to it) and waits for the final response.
    pub async fn send_udp(
        &self,
        socket: &UdpSocket,
        request: &Request,
        branch: &str,
        dest: SocketAddr,
        timer_f: Duration,
    ) -> Result<Response, ClientError> {
        let mut bytes = Vec::with_capacity(1500);
        sip::write(&Message::Request(request.clone()), &mut bytes);
        let mut responses = self.register(branch);
        let result = async {
            let started = Instant::now();
            let mut interval = T1;
            let mut proceeding = false;
            socket
                .send_to(&bytes, dest)
                .await
                .map_err(|e| ClientError::Transport(e.to_string()))?;
            loop {
                let left = timer_f.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(ClientError::Timeout(timer_f));
                }
                match tokio::time::timeout(interval.min(left), responses.recv()).await {
                    Ok(Some(response)) if response.code < 200 => {
                        // Proceeding: retransmit at T2 only (§17.1.2.2).
                        proceeding = true;
                        interval = T2;
                    }
                    Ok(Some(response)) => return Ok(response),
                    Ok(None) => return Err(ClientError::Transport("transaction dropped".into())),
                    Err(_) => {
                        socket
                            .send_to(&bytes, dest)
                            .await
                            .map_err(|e| ClientError::Transport(e.to_string()))?;
                        if !proceeding {
                            interval = (interval * 2).min(T2);
                        }
                    }
                }
            }
        }
        .await;
        self.forget(branch);
        result
    }
}

/// Sends over a new TCP connection and reads until the final response.
pub async fn send_tcp(
    stream: TcpStream,
    request: &Request,
    timer_f: Duration,
    limits: &sip::Limits,
) -> Result<Response, ClientError> {
    let work = async {
        let (reader, mut writer) = stream.into_split();
        let mut bytes = Vec::with_capacity(2048);
        sip::write(&Message::Request(request.clone()), &mut bytes);
        writer
            .write_all(&bytes)
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let mut frames = FramedReader::new(reader, SipStream(*limits), 8192);
        loop {
            match frames.read_frame().await {
                Ok(Some(SipFrame::Message(Message::Response(response))))
                    if response.code >= 200 =>
                {
                    return Ok(response);
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err(ClientError::Transport(
                        "connection closed before a final response".into(),
                    ));
                }
                Err(e) => return Err(ClientError::Transport(e.to_string())),
            }
        }
    };
    tokio::time::timeout(timer_f, work)
        .await
        .unwrap_or(Err(ClientError::Timeout(timer_f)))
}
