//! UDP and TCP listeners: bytes in, parsed requests to the handler,
//! responses out the way the request came (RFC 3261 §18.2.2: over UDP to
//! the source address, which is what `rport` asks for; over TCP on the same
//! connection).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use interwork_proto::sip::{self, Headers, Message, Method, Request, Response, SipError};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

use super::SipSender;
use super::awaiting_ack::{AckKey, AckWait, AwaitingAck};
use super::client_transaction::{self, ClientError, ClientTransactions};
use super::dialog::ack_of;
use super::transaction::{Begin, MergeKey, TransactionKey, Transactions};
use crate::BoxFuture;
use crate::admission::Admission;
use crate::config::SipTransport;
use crate::framed::{FrameError, FramedReader, SipFrame, SipStream};
use crate::listen::{Arrival, Gate, TrustedPeers};
use crate::shutdown::Shutdown;

/// What answers new requests.
pub trait RequestHandler: Send + Sync + 'static {
    /// The final response to a new request (never called for ACK or for a
    /// retransmission).
    fn handle(
        &self,
        request: Request,
        source: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = Response> + Send>>;
}

/// The SIP endpoint of the gateway: it serves requests from the IM system
/// and sends the gateway's own.
pub struct SipEndpoint {
    handler: Arc<dyn RequestHandler>,
    transactions: Transactions,
    clients: ClientTransactions,
    /// 2xx answers to INVITE over UDP, resent until their ACK.
    awaiting_ack: AwaitingAck,
    /// The UDP socket, once serving: requests go out from it so that
    /// their responses come back to it.
    udp: OnceLock<Arc<UdpSocket>>,
    trusted: TrustedPeers,
    limits: sip::Limits,
    /// The address put in Via when the socket is bound to a wildcard.
    advertised: IpAddr,
    /// How many received requests may be in the works at once (each in a
    /// task of its own): past it, a new MESSAGE or INVITE is answered `503`
    /// with `Retry-After` before anything else is done for it, so that
    /// under overload the answer costs a parse and a send and what was
    /// taken keeps its CPU. The same counted tickets as the flows' own
    /// admission, over requests rather than messages.
    backlog: Arc<Admission>,
}

/// Largest UDP datagram read; longer ones are truncated by the kernel and
/// then refused for their Content-Length.
const MAX_DATAGRAM: usize = 65_535;

/// The SIP UDP socket's receive buffer asked for: about a second of
/// requests at 8,000/s.
const RECEIVE_BUFFER: usize = 4 << 20;

impl SipEndpoint {
    /// An endpoint that hands new requests to `handler`, takes requests only
    /// from `trusted` addresses and puts `advertised` in its Via when bound
    /// to a wildcard address.
    pub fn new(
        handler: Arc<dyn RequestHandler>,
        trusted: Vec<IpAddr>,
        limits: sip::Limits,
        advertised: IpAddr,
    ) -> Arc<Self> {
        Self::with_backlog(handler, trusted, limits, advertised, usize::MAX, 1)
    }

    /// The endpoint working on at most `limit` requests at once; new ones
    /// past it are answered `503` with `Retry-After: retry_after_secs`.
    pub fn with_backlog(
        handler: Arc<dyn RequestHandler>,
        trusted: impl Into<TrustedPeers>,
        limits: sip::Limits,
        advertised: IpAddr,
        limit: usize,
        retry_after_secs: u32,
    ) -> Arc<Self> {
        Arc::new(Self {
            handler,
            transactions: Transactions::default(),
            clients: ClientTransactions::default(),
            awaiting_ack: AwaitingAck::default(),
            udp: OnceLock::new(),
            trusted: trusted.into(),
            limits,
            advertised,
            backlog: Admission::new(limit, retry_after_secs),
        })
    }

    /// The admission of received requests (a reload changes its limit).
    pub fn backlog(&self) -> &Arc<Admission> {
        &self.backlog
    }

    /// The UDP socket requests go out from, once it serves.
    fn udp_socket(&self) -> Result<Arc<UdpSocket>, ClientError> {
        self.udp
            .get()
            .cloned()
            .ok_or_else(|| ClientError::Transport("SIP UDP socket not serving".into()))
    }

    fn via_host(&self, local: SocketAddr) -> SocketAddr {
        if local.ip().is_unspecified() {
            SocketAddr::new(self.advertised, local.port())
        } else {
            local
        }
    }

    /// Sends a request to `dest` and waits for its final response (client
    /// transaction). The gateway's Via is added here.
    pub async fn send_request(
        &self,
        request: &mut Request,
        dest: SocketAddr,
        transport: SipTransport,
        timer_f: Duration,
    ) -> Result<Response, ClientError> {
        let branch = format!("z9hG4bK{}", crate::ids::token());
        match transport {
            SipTransport::Udp => {
                let socket = self.udp_socket()?;
                let local = socket
                    .local_addr()
                    .map_err(|e| ClientError::Transport(e.to_string()))?;
                let via = format!("SIP/2.0/UDP {};branch={branch};rport", self.via_host(local));
                request.headers.0.insert(0, ("Via".into(), via));
                self.clients
                    .send_udp(&socket, request, &branch, dest, timer_f)
                    .await
            }
            SipTransport::Tcp => {
                let stream = tokio::time::timeout(timer_f, TcpStream::connect(dest))
                    .await
                    .map_err(|_| ClientError::Timeout(timer_f))?
                    .map_err(|e| ClientError::Transport(e.to_string()))?;
                let local = stream
                    .local_addr()
                    .map_err(|e| ClientError::Transport(e.to_string()))?;
                let via = format!("SIP/2.0/TCP {};branch={branch};rport", self.via_host(local));
                request.headers.0.insert(0, ("Via".into(), via));
                client_transaction::send_tcp(stream, request, timer_f, &self.limits).await
            }
        }
    }

    /// Sends the ACK of an INVITE's final response (RFC 3261 §17.1.1.3 for
    /// non-2xx: same branch, hop by hop; §13.2.2.4 for 2xx: a new
    /// transaction). ACK has no response.
    pub async fn send_ack(
        &self,
        invite: &Request,
        response: &Response,
        dest: SocketAddr,
        transport: SipTransport,
    ) -> Result<(), ClientError> {
        let ack = ack_of(invite, response);
        let mut bytes = Vec::new();
        sip::write(&Message::Request(ack), &mut bytes);
        match transport {
            SipTransport::Udp => {
                let socket = self.udp_socket()?;
                socket
                    .send_to(&bytes, dest)
                    .await
                    .map(drop)
                    .map_err(|e| ClientError::Transport(e.to_string()))
            }
            SipTransport::Tcp => {
                let mut stream = TcpStream::connect(dest)
                    .await
                    .map_err(|e| ClientError::Transport(e.to_string()))?;
                stream
                    .write_all(&bytes)
                    .await
                    .map_err(|e| ClientError::Transport(e.to_string()))
            }
        }
    }

    /// Serves a UDP socket until `shutdown`. A failed receive (an ICMP
    /// error reported on the socket, a memory shortage) is logged and the
    /// socket read again: no datagram can end the listener.
    ///
    /// The socket is read on a thread of its own (a single-threaded
    /// runtime): as one task among the workers' hundreds, the reading loop
    /// waited its turn behind the requests it had spawned, the kernel's
    /// receive buffer overflowed, and every dropped request came back as a
    /// retransmission 0.5, 1, 2 and 4 s later (measured: p99 7.5 s with the
    /// gateway at half its CPU). Requests are still worked on by the
    /// workers; this thread only reads and hands them over.
    ///
    /// The thread and its runtime are made before this returns, so that a
    /// gateway that says it is ready holds every descriptor it serves with.
    pub fn serve_udp(
        self: Arc<Self>,
        socket: UdpSocket,
        shutdown: Shutdown,
    ) -> BoxFuture<'static, ()> {
        // A deeper buffer absorbs bursts (best effort: capped by
        // net.core.rmem_max).
        if let Err(e) = socket2::SockRef::from(&socket).set_recv_buffer_size(RECEIVE_BUFFER) {
            tracing::debug!("cannot deepen the SIP UDP receive buffer: {e}");
        }
        let started = socket.into_std().and_then(|socket| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let workers = tokio::runtime::Handle::current();
            let (done, finished) = tokio::sync::oneshot::channel::<()>();
            std::thread::Builder::new()
                .name("sip-udp-in".into())
                .spawn(move || {
                    runtime.block_on(self.read_udp(socket, workers, shutdown));
                    let _ = done.send(());
                })?;
            Ok(finished)
        });
        Box::pin(async move {
            match started {
                Ok(finished) => {
                    let _ = finished.await;
                }
                Err(e) => tracing::error!("cannot start the SIP UDP reader: {e}"),
            }
        })
    }

    /// The reading loop of [`SipEndpoint::serve_udp`], on its own thread;
    /// each datagram is worked on by a task on `workers`.
    async fn read_udp(
        self: Arc<Self>,
        socket: std::net::UdpSocket,
        workers: tokio::runtime::Handle,
        mut shutdown: Shutdown,
    ) {
        let socket = match UdpSocket::from_std(socket) {
            Ok(socket) => Arc::new(socket),
            Err(e) => {
                tracing::error!("SIP UDP socket unusable: {e}");
                return;
            }
        };
        let _ = self.udp.set(socket.clone());
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut last_sweep = Instant::now();
        loop {
            let received = tokio::select! {
                received = socket.recv_from(&mut buf) => received,
                () = shutdown.signalled() => return,
            };
            let (len, source) = match received {
                Ok(received) => received,
                Err(e) => {
                    tracing::warn!("SIP UDP receive failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let datagram = buf[..len].to_vec();
            if last_sweep.elapsed() > Duration::from_secs(1) {
                self.transactions.sweep(Instant::now());
                last_sweep = Instant::now();
            }
            let (server, socket) = (self.clone(), socket.clone());
            workers.spawn(async move {
                let send = move |bytes: Vec<u8>| {
                    let socket = socket.clone();
                    async move {
                        if let Err(e) = socket.send_to(&bytes, source).await {
                            tracing::warn!(%source, "cannot send SIP response: {e}");
                        }
                    }
                };
                // Full: a new MESSAGE or INVITE is answered 503 at once.
                let place = server.backlog.try_admit();
                let parsed = sip::parse_datagram(&datagram, &server.limits);
                server
                    .process(
                        parsed,
                        &datagram,
                        source,
                        SipTransport::Udp,
                        send,
                        place.is_none(),
                    )
                    .await;
                drop(place);
            });
        }
    }

    /// Serves the TCP connections `gate` lets in until `shutdown`; those
    /// past its limits, or from an address that is not a trusted peer, are
    /// closed at once. A connection that carries nothing for `idle` is
    /// closed.
    pub async fn serve_tcp(
        self: Arc<Self>,
        mut gate: Gate,
        idle: Duration,
        mut shutdown: Shutdown,
    ) {
        loop {
            let arrival = tokio::select! {
                arrival = gate.next() => arrival,
                () = shutdown.signalled() => return,
            };
            // No SIP answer to a connection: closing it is the refusal.
            let Arrival::Admitted { stream, peer, slot } = arrival else {
                continue;
            };
            let server = self.clone();
            tokio::spawn(async move {
                if let Err(e) = server.serve_connection(stream, peer, idle).await {
                    tracing::debug!(%peer, "SIP TCP connection ended: {e}");
                }
                drop(slot);
            });
        }
    }

    async fn serve_connection(
        self: Arc<Self>,
        stream: TcpStream,
        source: SocketAddr,
        idle: Duration,
    ) -> std::io::Result<()> {
        let (reader, mut writer) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
        let writing = tokio::spawn(async move {
            while let Some(bytes) = rx.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let mut frames = FramedReader::new(reader, SipStream(self.limits), 16 * 1024);
        loop {
            let message = match tokio::time::timeout(idle, frames.read_frame()).await {
                Err(_) => {
                    tracing::debug!(%source, "SIP TCP connection idle; closed");
                    break;
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(SipFrame::Ping))) => {
                    // RFC 5626 §3.5.1: the pong is one CRLF.
                    let _ = tx.send(b"\r\n".to_vec()).await;
                    continue;
                }
                Ok(Ok(Some(SipFrame::Message(message)))) => message,
                Ok(Err(FrameError::Parse(e))) => {
                    // The stream cannot be re-synchronised after a framing
                    // error: answer if possible, then close.
                    if let Some(bytes) = best_effort_400(frames.buffered(), &e) {
                        let _ = tx.send(bytes).await;
                    }
                    break;
                }
                Ok(Err(FrameError::Truncated(_))) => break,
                Ok(Err(FrameError::Io(e))) => {
                    drop(tx);
                    let _ = writing.await;
                    return Err(e);
                }
            };
            let send = {
                let tx = tx.clone();
                move |bytes: Vec<u8>| {
                    let tx = tx.clone();
                    async move {
                        let _ = tx.send(bytes).await;
                    }
                }
            };
            let server = self.clone();
            tokio::spawn(async move {
                let place = server.backlog.try_admit();
                server
                    .process(
                        Ok(message),
                        &[],
                        source,
                        SipTransport::Tcp,
                        send,
                        place.is_none(),
                    )
                    .await;
                drop(place);
            });
        }
        drop(tx);
        let _ = writing.await;
        Ok(())
    }

    async fn process<F, Fut>(
        &self,
        parsed: Result<Message, SipError>,
        raw: &[u8],
        source: SocketAddr,
        // How the request came: over UDP our 2xx to INVITE is resent.
        carrier: SipTransport,
        send: F,
        // The backlog is full: a new MESSAGE or INVITE is answered 503 at
        // once.
        shedding: bool,
    ) where
        F: Fn(Vec<u8>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let request = match parsed {
            Ok(Message::Request(request)) => request,
            Ok(Message::Response(response)) => {
                let code = response.code;
                if !self.clients.route(response) {
                    tracing::debug!(%source, code, "SIP response with no client transaction; dropped");
                }
                return;
            }
            Err(e) => {
                tracing::info!(%source, "malformed SIP message: {e}");
                if let Some(bytes) = best_effort_400(raw, &e) {
                    send(bytes).await;
                }
                return;
            }
        };
        if request.method == Method::Ack {
            // The ACK of a 2xx ends its retransmissions (§13.3.1.4); the
            // ACK of a non-2xx final response ends the INVITE server
            // transaction (§17.2.1). Neither is answered.
            if self.awaiting_ack.acknowledge(&request) {
                tracing::debug!(%source, "ACK of our 2xx to INVITE");
            }
            return;
        }
        if let Err(e) = request.validate() {
            tracing::info!(%source, "invalid SIP request: {e}");
            send(answer(&request, 400, &format!("Bad Request ({e})"))).await;
            return;
        }
        if !self.trusted.contains(&source.ip()) {
            tracing::warn!(%source, method = %request.method, "SIP request from an untrusted address");
            send(answer(&request, 403, "Forbidden (not a trusted IM system)")).await;
            return;
        }
        let Some(key) = TransactionKey::of(&request) else {
            send(answer(
                &request,
                400,
                "Bad Request (no transaction identifier)",
            ))
            .await;
            return;
        };
        let merge = MergeKey::of(&request);
        match self
            .transactions
            .begin(&key, merge.as_ref(), Instant::now())
        {
            Begin::New => {}
            Begin::InProgress => {
                // A provisional answer stops the client's retransmissions
                // from hurrying (§17.1.2.2: Proceeding waits T2).
                send(encode(Response::to(&request, 100, "Trying", ""))).await;
                return;
            }
            Begin::Answered(bytes) => {
                send(bytes).await;
                return;
            }
            Begin::Merged => {
                // RFC 3261 §8.2.2.2: the copy is refused, the first
                // transaction goes on.
                tracing::info!(%source, method = %request.method, "merged request (another path brought it first): 482");
                send(answer(&request, 482, "Loop Detected")).await;
                return;
            }
            Begin::Overloaded => {
                let mut response =
                    Response::to(&request, 503, "Service Unavailable", &crate::ids::token());
                response.headers.push("Retry-After", "5");
                send(encode(response)).await;
                return;
            }
        }
        // Only what brings new work is turned away; a BYE or CANCEL that
        // ends a session is served, here on the loop (it is quick).
        if shedding && matches!(request.method, Method::Message | Method::Invite) {
            let mut response =
                Response::to(&request, 503, "Service Unavailable", &crate::ids::token());
            response
                .headers
                .push("Retry-After", self.backlog.retry_after_secs().to_string());
            // Kept as the transaction's answer: a retransmission gets the
            // same 503 from the table, for less than a new request costs.
            let bytes = encode(response);
            self.transactions
                .complete(&key, bytes.clone(), Instant::now());
            send(bytes).await;
            return;
        }
        if request.method == Method::Invite {
            send(encode(Response::to(&request, 100, "Trying", ""))).await;
        }
        let ack_key = (request.method == Method::Invite && carrier == SipTransport::Udp)
            .then(|| AckKey::of(&request))
            .flatten();
        let response = self.handler.handle(request, source).await;
        // Over TCP the transport delivers the 2xx; over UDP we resend it
        // until the ACK (RFC 3261 §13.3.1.4), waiting for it from before the
        // first copy leaves.
        let expected = ack_key
            .filter(|_| (200..300).contains(&response.code))
            .map(|ack_key| self.awaiting_ack.expect(ack_key));
        let bytes = encode(response);
        self.transactions
            .complete(&key, bytes.clone(), Instant::now());
        send(bytes.clone()).await;
        match expected {
            None => {}
            Some(None) => tracing::warn!(
                %source,
                "too many 2xx answers wait for their ACK; this one is sent once"
            ),
            Some(Some(expected)) => {
                let wait = self
                    .awaiting_ack
                    .resend_until_ack(expected, &bytes, &send)
                    .await;
                if let AckWait::GaveUp { retransmissions } = wait {
                    tracing::warn!(
                        %source,
                        retransmissions,
                        "no ACK for our 2xx to INVITE within 64*T1; the IM side may not see the session"
                    );
                }
            }
        }
    }
}

/// A final answer to `request` with a fresh To tag, as bytes.
fn answer(request: &Request, code: u16, reason: &str) -> Vec<u8> {
    encode(Response::to(request, code, reason, &crate::ids::token()))
}

fn encode(response: Response) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    sip::write(&Message::Response(response), &mut out);
    out
}

/// A 400 for bytes that did not parse as a message, built from whatever
/// header lines can be found; `None` when there is no Via to answer to.
pub fn best_effort_400(raw: &[u8], error: &SipError) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    if head.starts_with("SIP/") {
        return None;
    }
    let mut headers = Headers::default();
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = sip::canonical_name(name.trim());
        if matches!(name.as_str(), "Via" | "From" | "To" | "Call-ID" | "CSeq") {
            headers.push(name, value.trim());
        }
    }
    headers.get("Via")?;
    let request = Request {
        method: Method::Options,
        uri: "sip:invalid".into(),
        headers,
        body: Vec::new(),
    };
    let reason = format!("Bad Request ({error})");
    Some(encode(Response::to(
        &request,
        400,
        &reason,
        &crate::ids::token(),
    )))
}

impl SipSender for SipEndpoint {
    fn send_request<'a>(
        &'a self,
        request: &'a mut Request,
        dest: SocketAddr,
        transport: SipTransport,
        timer_f: Duration,
    ) -> BoxFuture<'a, Result<Response, ClientError>> {
        Box::pin(SipEndpoint::send_request(
            self, request, dest, transport, timer_f,
        ))
    }

    fn send_ack<'a>(
        &'a self,
        invite: &'a Request,
        response: &'a Response,
        dest: SocketAddr,
        transport: SipTransport,
    ) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(SipEndpoint::send_ack(
            self, invite, response, dest, transport,
        ))
    }
}
