//! The MSRP listener: frames in, a 200 to each SEND (hop by hop, RFC 4975
//! §7.2), chunks reassembled per Message-ID (the buffering unit and the
//! unit that decides a message is complete, SPEC S8), each complete message
//! handed on, and the end-to-end outcome reported when asked (§7.1.2).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use interwork_proto::msrp::{
    self, ByteRange, FailureReport, Frame, Method, Progress, Reassembler, Request, Response, Status,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{Session, Sessions};
use crate::framed::{FrameError, FramedReader, MsrpStream};
use crate::listen::{Arrival, Gate};
use crate::outcome::Verdict;
use crate::shutdown::Shutdown;

/// Where complete messages go: the IM → e-mail direction.
pub trait MessageSink: Send + Sync + 'static {
    /// Delivers one complete message of a session: `Ok` once delivered,
    /// else the verdict.
    fn deliver(
        &self,
        session: Arc<Session>,
        content_type: Option<String>,
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Result<(), Verdict>> + Send>>;
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
    /// A server for `sessions` handing complete messages of at most
    /// `max_message_bytes` to `sink`, closing connections idle for `idle`.
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

    /// Serves the connections `gate` lets in until `shutdown`; those past
    /// its limits are closed at once. Sessions whose peer never sent BYE
    /// are ended by the same loop, so that even sessions no connection
    /// ever used are forgotten.
    pub async fn serve(self: Arc<Self>, mut gate: Gate, mut shutdown: Shutdown) {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            let arrival = tokio::select! {
                arrival = gate.next() => arrival,
                () = shutdown.signalled() => return,
                _ = sweep.tick() => {
                    self.sessions.expire(SESSION_LIFETIME, Instant::now());
                    continue;
                }
            };
            let Arrival::Admitted { stream, peer, slot } = arrival else {
                // MSRP has no greeting to refuse with: closing is the answer.
                continue;
            };
            let server = self.clone();
            tokio::spawn(async move {
                if let Err(e) = server.serve_connection(stream).await {
                    tracing::info!(%peer, "MSRP connection ended: {e}");
                }
                drop(slot);
            });
        }
    }

    async fn serve_connection(self: Arc<Self>, stream: TcpStream) -> std::io::Result<()> {
        let (reader, mut writer) = stream.into_split();
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
        let mut frames = FramedReader::new(reader, MsrpStream(self.limits), 64 * 1024);
        let result = loop {
            match tokio::time::timeout(self.idle, frames.read_frame()).await {
                Ok(Ok(Some(Frame::Request(request)))) => {
                    self.on_request(request, &mut reassembler, &tx).await;
                }
                Ok(Ok(Some(Frame::Response(_)))) => {}
                Ok(Ok(None)) => break Ok(()),
                // RFC 4975 §7.3: a connection that cannot be framed
                // cannot be trusted for anything after it.
                Ok(Err(FrameError::Io(e))) => break Err(e),
                Ok(Err(e)) => {
                    break Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        e.to_string(),
                    ));
                }
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
fn report_of(request: &Request, outcome: &Result<(), Verdict>, total: u64) -> Option<Request> {
    let delivered = outcome.is_ok();
    let wanted = if delivered {
        request.success_report == Some(true)
    } else {
        !matches!(request.failure_report, Some(FailureReport::No))
    };
    if !wanted {
        return None;
    }
    let status = match outcome {
        Ok(()) => Status::new(200, Some("202 Accepted")),
        Err(verdict) => verdict.msrp_status(),
    };
    Request::report_for(
        request,
        crate::ids::token(),
        ByteRange::whole(total),
        status,
    )
    .ok()
}
