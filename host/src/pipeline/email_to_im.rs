//! E-mail → IM (SPEC S6): a mail accepted by the SMTP server becomes a SIP
//! MESSAGE (CPIM, RFC 3862, with IMDN requests, RFC 5438) to the IM system
//! that serves the recipient, and the SIP outcome becomes the reply to DATA
//! — the sending MTA keeps the mail and retries on a temporary failure, so
//! nothing is lost.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, SipTransport};
use crate::cpim::{self, CpimHeader, CpimMessage};
use crate::imdn;
use crate::mail::incoming;
use crate::msrp::{self, Frame, MsrpUri};
use crate::pipeline::im_to_email::now;
use crate::plugin::bindings::mapping::Role;
use crate::plugin::bindings::types::{Dispositions, ImMessage};
use crate::plugin::{CallError, Plugins, RefusalKind};
use crate::sdp::{self, MsrpOfferParams, Setup};
use crate::sip::{Headers, Message, Method, NameAddr, Request, Response};
use crate::sip_server::{ClientError, SipServer};
use crate::smtp_server::{MailSink, RecipientCheck, Reply, Transaction};
use crate::timefmt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// RFC 3428 §8: a MESSAGE request, not its body, must fit 1300 bytes for
/// pager mode; the patent's "content ≤ 1300 bytes" is read as this rule.
pub const PAGER_LIMIT: usize = 1300;

/// Bytes the SIP server's Via adds to a request.
const VIA_ALLOWANCE: usize = 100;

/// Largest SEND body the gateway writes (the 2048 bytes).
const MSRP_CHUNK: usize = 2048;

/// Where the IMs of one IM domain go.
#[derive(Debug, Clone)]
struct Route {
    domain: String,
    next_hop: SocketAddr,
    transport: SipTransport,
}

/// S6 up to the SIP request, without the network: parse, map, convert,
/// wrap in CPIM, route.
pub struct Planner {
    plugins: Arc<Plugins>,
    routes: Vec<Route>,
    hostname: String,
    /// Our MSRP URI's address (SDP offer, From-Path).
    msrp_address: SocketAddr,
}

/// The e-mail → IM direction.
pub struct EmailToIm {
    planner: Planner,
    sip: Arc<SipServer>,
    timer_f: Duration,
    /// The gateway's SIP Contact.
    contact: String,
    /// How long a whole MSRP transfer may take (RFC 5321 gives the SMTP
    /// client 10 minutes for the DATA reply).
    msrp_timeout: Duration,
}

/// The SIP request an accepted mail becomes, before it is sent.
#[derive(Debug, Clone)]
pub struct PlannedIm {
    pub request: Request,
    pub next_hop: SocketAddr,
    pub transport: SipTransport,
}

fn plugin_reply(error: CallError, agent: &str) -> Reply {
    match error {
        CallError::Refused(e) => match e.kind {
            RefusalKind::NotFound | RefusalKind::Invalid => {
                Reply::new(550, "5.1.1", format!("{agent}: {}", e.reason))
            }
            RefusalKind::Permanent => Reply::new(550, "5.7.1", format!("{agent}: {}", e.reason)),
            RefusalKind::Temporary => Reply::new(451, "4.3.0", format!("{agent}: {}", e.reason)),
        },
        CallError::Fault(fault) => {
            tracing::error!("{fault}");
            Reply::new(451, "4.3.0", "Temporary plugin failure, try again later")
        }
    }
}

/// S6 answer: the SMTP reply for a SIP final response.
pub fn reply_of(response: &Result<Response, ClientError>) -> Reply {
    let response = match response {
        Ok(response) => response,
        Err(e) => return Reply::new(451, "4.4.1", format!("IM system did not answer: {e}")),
    };
    let said = format!("IM system: {} {}", response.code, response.reason);
    match response.code {
        200..=299 => Reply::new(
            250,
            "2.0.0",
            format!("Delivered as IM ({} {})", response.code, response.reason),
        ),
        404 | 604 => Reply::new(550, "5.1.1", said),
        403 | 603 => Reply::new(550, "5.7.1", said),
        413 | 513 => Reply::new(552, "5.3.4", said),
        415 | 488 => Reply::new(554, "5.6.1", said),
        486 | 600 => Reply::new(450, "4.2.1", said),
        408 | 480 | 500..=599 => Reply::new(451, "4.4.1", said),
        400..=499 | 606 => Reply::new(550, "5.0.0", said),
        _ => Reply::new(451, "4.4.1", said),
    }
}

impl Planner {
    pub fn new(config: &Config, plugins: Arc<Plugins>) -> Self {
        let msrp_address =
            SocketAddr::new(config.msrp.advertised_address(), config.msrp.listen.port());
        Self::with_msrp_address(config, plugins, msrp_address)
    }

    fn with_msrp_address(config: &Config, plugins: Arc<Plugins>, msrp_address: SocketAddr) -> Self {
        Self {
            plugins,
            routes: config
                .im_domains
                .iter()
                .map(|d| Route {
                    domain: d.domain.to_ascii_lowercase(),
                    next_hop: d.next_hop,
                    transport: d.transport,
                })
                .collect(),
            hostname: config.gateway.hostname.clone(),
            msrp_address,
        }
    }

    fn route_of(&self, im_uri: &str) -> Option<&Route> {
        let host = im_uri
            .split_once('@')?
            .1
            .split([';', '>', ':'])
            .next()?
            .to_ascii_lowercase();
        self.routes.iter().find(|r| r.domain == host)
    }

    /// S6 steps up to the SIP request: parse, map, convert, wrap in CPIM.
    /// Blocking (plugin calls).
    pub fn plan(&self, tx: &Transaction) -> Result<PlannedIm, Reply> {
        let mail = incoming::parse(&tx.data, &tx.mail_from, &tx.rcpt_to, now())
            .map_err(|e| Reply::new(554, "5.6.0", e.to_string()))?;
        let set = self.plugins.current();
        let engine = self.plugins.engine();
        let rcpt = tx
            .rcpt_to
            .first()
            .ok_or_else(|| Reply::new(554, "5.5.1", "No recipient"))?;
        let recipient = set
            .mapping
            .im_of_email(engine, rcpt, Role::Recipient)
            .map_err(|e| plugin_reply(e, &self.hostname))?
            .value;
        let author = incoming::author(&mail)
            .ok_or_else(|| Reply::new(550, "5.1.7", "The mail has no sender address"))?;
        let sender = set
            .mapping
            .im_of_email(engine, &author, Role::Sender)
            .map_err(|e| plugin_reply(e, &self.hostname))?
            .value;
        let im = set
            .conversion
            .email_to_im(engine, &mail, &sender, &recipient)
            .map_err(|e| plugin_reply(e, &self.hostname))?;
        let route = self
            .route_of(&recipient)
            .ok_or_else(|| Reply::new(550, "5.1.2", format!("No IM system serves {recipient}")))?;
        let request = self.message_request(&im, &sender, &recipient)?;
        Ok(PlannedIm {
            request,
            next_hop: route.next_hop,
            transport: route.transport,
        })
    }

    fn message_request(
        &self,
        im: &ImMessage,
        sender: &str,
        recipient: &str,
    ) -> Result<Request, Reply> {
        let bad = |what: String| Reply::new(554, "5.6.0", what);
        let message_id = im.imdn_message_id.clone().unwrap_or_else(crate::ids::token);
        let mut dispositions = imdn::Dispositions::NONE;
        for (ours, theirs) in [
            (
                Dispositions::POSITIVE_DELIVERY,
                imdn::Dispositions::POSITIVE_DELIVERY,
            ),
            (
                Dispositions::NEGATIVE_DELIVERY,
                imdn::Dispositions::NEGATIVE_DELIVERY,
            ),
            (Dispositions::DISPLAY, imdn::Dispositions::DISPLAY),
        ] {
            if im.dispositions.contains(ours) {
                dispositions.insert(theirs);
            }
        }
        let date = timefmt::Timestamp {
            unix_seconds: im.date.unix_seconds,
            offset_minutes: im.date.offset_minutes,
        };
        let mut cpim = CpimMessage::new();
        let from = cpim::format_address(None, sender).map_err(|e| bad(e.to_string()))?;
        let to = cpim::format_address(None, recipient).map_err(|e| bad(e.to_string()))?;
        cpim.push_header(CpimHeader::new("From", from));
        cpim.push_header(CpimHeader::new("To", to));
        for header in imdn::request_headers(&message_id, dispositions, &date)
            .map_err(|e| bad(e.to_string()))?
        {
            cpim.push_header(header);
        }
        if let Some(subject) = &im.subject {
            cpim.push_header(CpimHeader::text("Subject", subject));
        }
        cpim.set_content(im.content_type.clone(), im.body.clone());
        let mut body = Vec::new();
        cpim::write(&cpim, &mut body).map_err(|e| bad(e.to_string()))?;
        let mut headers = Headers::default();
        headers.push("Max-Forwards", "70");
        headers.push("From", format!("<{sender}>;tag={}", crate::ids::token()));
        headers.push("To", format!("<{recipient}>"));
        headers.push(
            "Call-ID",
            format!("{}@{}", crate::ids::token(), self.hostname),
        );
        headers.push("CSeq", "1 MESSAGE");
        headers.push("Content-Type", "message/cpim");
        Ok(Request {
            method: Method::Message,
            uri: recipient.to_string(),
            headers,
            body,
        })
    }

    /// Our URI and the SDP offer of a large-message session.
    pub fn msrp_offer(&self) -> Result<(MsrpUri, Vec<u8>), Reply> {
        let our_uri = MsrpUri::new(
            false,
            self.msrp_address.ip().to_string(),
            Some(self.msrp_address.port()),
            crate::ids::token(),
        );
        let params = MsrpOfferParams {
            origin_user: "interwork".into(),
            session_id: crate::ids::unique_u64() >> 1,
            session_version: 1,
            address: self.msrp_address.ip(),
            port: self.msrp_address.port(),
            path: our_uri.to_string(),
            accept_types: vec!["message/cpim".into(), "message/imdn+xml".into()],
            accept_wrapped_types: vec!["*".into()],
            max_size: None,
        };
        let offer = sdp::msrp_offer(&params, Setup::Active)
            .map_err(|e| Reply::new(451, "4.3.0", format!("cannot make an SDP offer: {e}")))?;
        let mut bytes = Vec::new();
        sdp::write(&offer, &mut bytes)
            .map_err(|e| Reply::new(451, "4.3.0", format!("cannot write the SDP offer: {e}")))?;
        Ok((our_uri, bytes))
    }
}

/// Whether a planned MESSAGE goes in pager mode (S6 size rule on the
/// whole request, counting the Via the SIP server adds).
pub fn fits_pager(plan: &PlannedIm) -> bool {
    let mut bytes = Vec::new();
    crate::sip::write(&Message::Request(plan.request.clone()), &mut bytes);
    bytes.len() + VIA_ALLOWANCE <= PAGER_LIMIT
}

/// The INVITE of a large-message session for a planned MESSAGE.
pub fn invite_of(message: &Request, offer: Vec<u8>, contact: &str) -> Request {
    let mut invite = Request {
        method: Method::Invite,
        uri: message.uri.clone(),
        headers: message.headers.clone(),
        body: offer,
    };
    invite.headers.set("CSeq", "1 INVITE");
    invite.headers.set("Content-Type", "application/sdp");
    invite.headers.set("Contact", contact);
    invite
}

/// What `interwork convert email-to-im` prints: the MESSAGE, or the INVITE
/// and the SEND chunks (their To-Path comes from the SDP answer, shown as
/// `answerer.invalid`). Without the Via the SIP server adds.
pub fn wire_preview(planner: &Planner, plan: &PlannedIm) -> Vec<(String, Vec<u8>)> {
    let write_sip = |request: &Request| {
        let mut bytes = Vec::new();
        crate::sip::write(&Message::Request(request.clone()), &mut bytes);
        bytes
    };
    if fits_pager(plan) {
        return vec![("SIP MESSAGE (pager mode)".into(), write_sip(&plan.request))];
    }
    let Ok((our_uri, offer)) = planner.msrp_offer() else {
        return Vec::new();
    };
    let contact = format!("<sip:interwork@{}>", planner.msrp_address.ip());
    let mut out = vec![(
        "SIP INVITE (large-message mode)".to_string(),
        write_sip(&invite_of(&plan.request, offer, &contact)),
    )];
    let answerer = MsrpUri::new(false, "answerer.invalid", Some(2855), "from-sdp-answer");
    let chunks = msrp::chunk(
        &plan.request.body,
        "message/cpim",
        &crate::ids::token(),
        MSRP_CHUNK,
        crate::ids::token,
        std::slice::from_ref(&answerer),
        std::slice::from_ref(&our_uri),
    );
    let count = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut bytes = Vec::new();
        msrp::write(&Frame::Request(chunk), &mut bytes);
        out.push((format!("MSRP SEND chunk {} of {count}", i + 1), bytes));
    }
    out
}

impl EmailToIm {
    pub fn new(
        config: &Config,
        plugins: Arc<Plugins>,
        sip: Arc<SipServer>,
        msrp_address: SocketAddr,
        contact: String,
    ) -> Self {
        Self {
            planner: Planner::with_msrp_address(config, plugins, msrp_address),
            sip,
            timer_f: Duration::from_secs(32),
            contact,
            msrp_timeout: Duration::from_secs(300),
        }
    }

    /// Delivers one accepted mail as an IM; the reply goes to DATA.
    pub async fn deliver(self: Arc<Self>, tx: Transaction) -> Reply {
        let this = self.clone();
        let planned = match tokio::task::spawn_blocking(move || this.planner.plan(&tx)).await {
            Ok(Ok(planned)) => planned,
            Ok(Err(reply)) => return reply,
            Err(e) => {
                tracing::error!("plugin task failed: {e}");
                return Reply::new(451, "4.3.0", "Temporary failure, try again later");
            }
        };
        let pager = fits_pager(&planned);
        let reply = if pager {
            let mut request = planned.request;
            let response = self
                .sip
                .send_request(
                    &mut request,
                    planned.next_hop,
                    planned.transport,
                    self.timer_f,
                )
                .await;
            reply_of(&response)
        } else {
            self.deliver_large(planned).await
        };
        let mode = if pager { "pager" } else { "large" };
        tracing::info!(mode, "mail delivered as IM: {reply}");
        reply
    }

    /// Large-message mode (S6): INVITE with an MSRP offer, the CPIM message
    /// in SEND chunks of at most 2048 bytes over a connection the gateway
    /// opens (RFC 4975 §5.4: the offerer is active), then BYE.
    async fn deliver_large(&self, planned: PlannedIm) -> Reply {
        let message = planned.request;
        let (our_uri, offer) = match self.planner.msrp_offer() {
            Ok(offer) => offer,
            Err(reply) => return reply,
        };
        let mut invite = invite_of(&message, offer, &self.contact);
        let response = self
            .sip
            .send_request(
                &mut invite,
                planned.next_hop,
                planned.transport,
                self.timer_f,
            )
            .await;
        let answer = match &response {
            Ok(r) => {
                if let Err(e) = self
                    .sip
                    .send_ack(&invite, r, planned.next_hop, planned.transport)
                    .await
                {
                    tracing::warn!("ACK not sent: {e}");
                }
                if r.code / 100 != 2 {
                    return reply_of(&response);
                }
                r.clone()
            }
            Err(_) => return reply_of(&response),
        };
        let outcome = self.send_msrp(&answer, &our_uri, &message.body).await;
        // End the session whatever happened (S6: "then end the session").
        let mut bye = Request {
            method: Method::Bye,
            uri: answer
                .headers
                .get("Contact")
                .and_then(|c| NameAddr::parse(c).ok())
                .map_or_else(|| invite.uri.clone(), |c| c.uri),
            headers: Headers::default(),
            body: Vec::new(),
        };
        bye.headers.push("Max-Forwards", "70");
        bye.headers
            .push("From", invite.headers.get("From").unwrap_or_default());
        bye.headers
            .push("To", answer.headers.get("To").unwrap_or_default());
        bye.headers
            .push("Call-ID", invite.headers.get("Call-ID").unwrap_or_default());
        bye.headers.push("CSeq", "2 BYE");
        if let Err(e) = self
            .sip
            .send_request(&mut bye, planned.next_hop, planned.transport, self.timer_f)
            .await
        {
            tracing::warn!("BYE not answered: {e}");
        }
        outcome
    }

    /// Sends the message over MSRP to the answer's path and waits for the
    /// 200 of every chunk.
    async fn send_msrp(&self, answer: &Response, our_uri: &MsrpUri, content: &[u8]) -> Reply {
        let failed = |what: String| Reply::new(451, "4.4.1", format!("MSRP: {what}"));
        let description = match sdp::parse(&answer.body) {
            Ok(d) => d,
            Err(e) => return failed(format!("bad SDP answer: {e}")),
        };
        let Some(media) = description.msrp_media() else {
            return failed("the answer has no MSRP media".into());
        };
        let path: Result<Vec<MsrpUri>, _> =
            media.path.iter().map(|p| p.parse::<MsrpUri>()).collect();
        let path = match path {
            Ok(path) if !path.is_empty() => path,
            _ => return failed("the answer has no usable a=path".into()),
        };
        let first = &path[0];
        let host = first.host.trim_matches(['[', ']']);
        let port = first.port.unwrap_or(2855);
        let work = async {
            let mut stream = TcpStream::connect((host, port))
                .await
                .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
            let message_id = crate::ids::token();
            let chunks = msrp::chunk(
                content,
                "message/cpim",
                &message_id,
                MSRP_CHUNK,
                crate::ids::token,
                &path,
                std::slice::from_ref(our_uri),
            );
            let limits = msrp::Limits::default();
            let mut buf = Vec::new();
            let mut read = vec![0u8; 16 * 1024];
            for chunk in chunks {
                let tid = chunk.transaction_id.clone();
                let mut bytes = Vec::new();
                msrp::write(&Frame::Request(chunk), &mut bytes);
                stream.write_all(&bytes).await.map_err(|e| e.to_string())?;
                // Wait for this chunk's transaction response (§7.1.1).
                loop {
                    if let Some((frame, used)) =
                        msrp::parse(&buf, &limits).map_err(|e| e.to_string())?
                    {
                        buf.drain(..used);
                        match frame {
                            Frame::Response(r) if r.transaction_id == tid && r.code == 200 => break,
                            Frame::Response(r) if r.transaction_id == tid => {
                                return Err(format!(
                                    "{} {}",
                                    r.code,
                                    r.comment.unwrap_or_default()
                                ));
                            }
                            _ => continue,
                        }
                    }
                    let n = stream.read(&mut read).await.map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Err("connection closed".to_string());
                    }
                    buf.extend_from_slice(&read[..n]);
                }
            }
            Ok::<(), String>(())
        };
        match tokio::time::timeout(self.msrp_timeout, work).await {
            Ok(Ok(())) => Reply::new(250, "2.0.0", "Delivered as IM (MSRP)"),
            Ok(Err(what)) => failed(what),
            Err(_) => failed(format!("no answer within {:?}", self.msrp_timeout)),
        }
    }
}

/// RCPT TO policy (S1, S2): only served domains (no open relay), only
/// addresses the mapping plugin resolves.
pub struct RecipientPolicy(pub Arc<Plugins>);

impl RecipientCheck for RecipientPolicy {
    fn check(&self, address: &str) -> Result<(), Reply> {
        let Some((_, domain)) = address.rsplit_once('@') else {
            return Err(Reply::new(501, "5.1.3", "Bad recipient address syntax"));
        };
        let set = self.0.current();
        let engine = self.0.engine();
        match set.mapping.is_served_domain(engine, domain) {
            Ok(true) => {}
            Ok(false) => return Err(Reply::new(550, "5.7.1", "Relaying denied")),
            Err(fault) => {
                tracing::error!("{fault}");
                return Err(Reply::new(
                    451,
                    "4.3.0",
                    "Temporary plugin failure, try again later",
                ));
            }
        }
        match set.mapping.im_of_email(engine, address, Role::Recipient) {
            Ok(_) => Ok(()),
            Err(CallError::Refused(e))
                if matches!(e.kind, RefusalKind::NotFound | RefusalKind::Invalid) =>
            {
                Err(Reply::new(550, "5.1.1", "User unknown"))
            }
            Err(e) => Err(plugin_reply(e, "mapping")),
        }
    }
}

impl MailSink for Arc<EmailToIm> {
    fn deliver(
        &self,
        tx: Transaction,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + Send>> {
        Box::pin(EmailToIm::deliver(self.clone(), tx))
    }
}
