//! The MSRP listener: frames in, a 200 to each SEND (hop by hop, RFC 4975
//! §7.2), chunks reassembled per Message-ID (the buffering unit and the
//! unit that decides a message is complete, SPEC S8), each complete message
//! handed on, and the end-to-end outcome reported when asked (§7.1.2).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::{Session, Sessions};
use crate::msrp::{
    self, ByteRange, FailureReport, Frame, Method, Progress, Reassembler, Request, Response, Status,
};
use crate::pipeline::Answer;

/// Where complete messages go: the IM → e-mail pipeline.
pub trait MessageSink: Send + Sync + 'static {
    /// Delivers one complete message of a session; the answer says how it
    /// went, as SIP would (202 = delivered).
    fn deliver(
        &self,
        session: Arc<Session>,
        content_type: Option<String>,
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send>>;
}

/// The MSRP server of the gateway.
pub struct MsrpServer {
    sessions: Arc<Sessions>,
    sink: Arc<dyn MessageSink>,
    limits: msrp::Limits,
    max_message_bytes: usize,
    idle: Duration,
}

/// How often sessions past their lifetime are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// A session lives at most this long without BYE.
const SESSION_LIFETIME: Duration = Duration::from_secs(3600);

/// Messages being reassembled at once on one connection.
const MAX_MESSAGES_PER_CONNECTION: usize = 16;

impl MsrpServer {
    pub fn new(
        sessions: Arc<Sessions>,
        sink: Arc<dyn MessageSink>,
        max_message_bytes: usize,
        idle: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            sessions,
            sink,
            limits: msrp::Limits::default(),
            max_message_bytes,
            idle,
        })
    }

    /// Accepts connections until the listener fails.
    /// Sessions whose peer never sent BYE are ended by the same loop, so
    /// that even sessions no connection ever used are forgotten.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => accepted?,
                _ = sweep.tick() => {
                    self.sessions.expire(SESSION_LIFETIME, Instant::now());
                    continue;
                }
            };
            let server = self.clone();
            tokio::spawn(async move {
                if let Err(e) = server.serve_connection(stream).await {
                    tracing::info!(%peer, "MSRP connection ended: {e}");
                }
            });
        }
    }

    async fn serve_connection(self: Arc<Self>, stream: TcpStream) -> std::io::Result<()> {
        let (mut reader, mut writer) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<Frame>(64);
        let writing = tokio::spawn(async move {
            let mut out = Vec::with_capacity(4096);
            while let Some(frame) = rx.recv().await {
                out.clear();
                msrp::write(&frame, &mut out);
                if writer.write_all(&out).await.is_err() {
                    break;
                }
            }
        });
        let mut reassembler = Reassembler::new(self.max_message_bytes, MAX_MESSAGES_PER_CONNECTION);
        let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
        let mut chunk = vec![0u8; 64 * 1024];
        let result = loop {
            loop {
                match msrp::parse(&buf, &self.limits) {
                    Ok(Some((frame, used))) => {
                        buf.drain(..used);
                        if let Frame::Request(request) = frame {
                            self.on_request(request, &mut reassembler, &tx).await;
                        }
                    }
                    Ok(None) => break,
                    // RFC 4975 §7.3: a connection that cannot be framed
                    // cannot be trusted for anything after it.
                    Err(e) => {
                        drop(tx);
                        let _ = writing.await;
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            e.to_string(),
                        ));
                    }
                }
            }
            match tokio::time::timeout(self.idle, reader.read(&mut chunk)).await {
                Ok(Ok(0)) => break Ok(()),
                Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => break Err(e),
                Err(_) => break Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "idle")),
            }
        };
        drop(tx);
        let _ = writing.await;
        result
    }

    async fn on_request(
        &self,
        request: Request,
        reassembler: &mut Reassembler,
        tx: &mpsc::Sender<Frame>,
    ) {
        let respond = |code: u16, comment: &str| {
            let response = Response::to_request(&request, code, Some(comment));
            let wanted = request.expects_response(code);
            let tx = tx.clone();
            async move {
                if wanted {
                    let _ = tx.send(Frame::Response(response)).await;
                }
            }
        };
        match request.method {
            Method::Send => {}
            // REPORTs are never answered (§7.1.2); the gateway sends none
            // that a peer would report on.
            Method::Report => return,
            Method::Other(_) => return respond(501, "Not Implemented").await,
        }
        let session = request
            .to_path
            .last()
            .and_then(|ours| self.sessions.get(&ours.session_id));
        let Some(session) = session else {
            return respond(481, "Session Does Not Exist").await;
        };
        match reassembler.accept(&request) {
            Ok(Progress::Incomplete { .. }) | Ok(Progress::Aborted { .. }) => {
                respond(200, "OK").await
            }
            Ok(Progress::TooLarge { message_id }) => {
                tracing::info!(session = %session.id, %message_id, "MSRP message over the size limit");
                respond(413, "Message Too Large").await;
            }
            Ok(Progress::Complete {
                message_id,
                content_type,
                body,
            }) => {
                respond(200, "OK").await;
                let total = body.len() as u64;
                tracing::info!(session = %session.id, %message_id, bytes = total, "MSRP message complete");
                let sink = self.sink.clone();
                let tx = tx.clone();
                // Delivery takes as long as SMTP does: off the read loop,
                // so further SENDs of the session are answered meanwhile.
                tokio::spawn(async move {
                    let outcome = sink.deliver(session, content_type, body).await;
                    if let Some(report) = report_of(&request, &outcome, total) {
                        let _ = tx.send(Frame::Request(report)).await;
                    }
                });
            }
            Err(e) => respond(400, &format!("Bad Request ({e})")).await,
        }
    }
}

/// The end-to-end REPORT (RFC 4975 §7.1.2) for a delivery outcome, when
/// the sender asked for one: on success only with `Success-Report: yes`; on
/// failure unless `Failure-Report: no` (the default is `yes`).
fn report_of(request: &Request, outcome: &Answer, total: u64) -> Option<Request> {
    let delivered = outcome.code / 100 == 2;
    let wanted = if delivered {
        request.success_report == Some(true)
    } else {
        !matches!(request.failure_report, Some(FailureReport::No))
    };
    if !wanted {
        return None;
    }
    // MSRP has its own small set of status codes (§10): the closest one,
    // with the SIP answer in the comment.
    let code = match outcome.code {
        200..=299 => 200,
        413 => 413,
        415 => 415,
        400 => 400,
        480 | 503 | 408 => 408,
        _ => 403,
    };
    let comment = format!("{} {}", outcome.code, outcome.reason);
    let status = Status::new(code, Some(&comment));
    Request::report_for(
        request,
        crate::ids::token(),
        ByteRange::whole(total),
        status,
    )
    .ok()
}
