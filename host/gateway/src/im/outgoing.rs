//! IM out (SPEC S6): the `im-message` a conversion plugin made from a mail
//! becomes a SIP MESSAGE carrying CPIM (RFC 3862) with IMDN requests
//! (RFC 5438), routed to the IM system that serves the recipient's domain,
//! and is sent in pager mode (RFC 3428) when it fits, else in large-message
//! mode: INVITE with an MSRP offer, the CPIM message in SEND chunks, BYE.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use interwork_plugin_host::bindings::types::{Header, ImMessage, MailPart};
use interwork_proto::cpim::{self, CpimHeader, CpimMessage};
use interwork_proto::mime::multipart::{self, OutPart};
use interwork_proto::msrp::{self, Frame, MsrpUri};
use interwork_proto::sdp::{self, MsrpOfferParams, Setup};
use interwork_proto::sip::{self, Headers, Message, Method, Request, Response};
use interwork_proto::{dates, imdn};

use crate::config::{Config, SipTransport};
use crate::outcome::{About, Kind, Verdict};
use crate::sip::SipSender;
use crate::sip::dialog::{Dialog, bye_of, invite_of};

/// RFC 3428 §8: a MESSAGE request, not its body, must fit 1300 bytes for
/// pager mode; the patent's "content ≤ 1300 bytes" is read as this rule.
pub const PAGER_LIMIT: usize = 1300;

/// Bytes the SIP endpoint's Via adds to a request.
const VIA_ALLOWANCE: usize = 100;

/// Where the IMs of one IM domain go.
#[derive(Debug, Clone)]
struct Route {
    domain: String,
    next_hop: SocketAddr,
    transport: SipTransport,
}

/// The SIP request an IM becomes, before it is sent.
#[derive(Debug, Clone)]
pub struct PlannedIm {
    /// The MESSAGE (its body the CPIM message).
    pub request: Request,
    /// The IM system's next hop.
    pub next_hop: SocketAddr,
    /// How to reach it.
    pub transport: SipTransport,
    /// Whether it goes in pager mode (S6 size rule), decided once.
    pub pager: bool,
}

impl PlannedIm {
    /// Its `imdn.Message-ID` (RFC 5438 §6.3), given or made up.
    pub fn imdn_message_id(&self) -> Option<String> {
        let cpim = cpim::parse(&self.request.body).ok()?;
        cpim.get_ns(imdn::IMDN_URN, "Message-ID")
            .map(|h| h.value.clone())
    }
}

/// Writes IMs as SIP requests and routes them, without the network.
pub struct ImComposer {
    /// `[[im_domains]]`, replaced whole by a reload.
    routes: arc_swap::ArcSwap<Vec<Route>>,
    hostname: String,
    /// Our MSRP URI's address (SDP offer, From-Path).
    msrp_address: SocketAddr,
}

fn routes_of(config: &Config) -> Vec<Route> {
    config
        .im_domains
        .iter()
        .map(|d| Route {
            domain: d.domain.to_ascii_lowercase(),
            next_hop: d.next_hop,
            transport: d.transport,
        })
        .collect()
}

impl ImComposer {
    /// The gateway's host name, as the composer writes it.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The composer of a configuration, its MSRP listener at the
    /// configured address.
    pub fn new(config: &Config) -> Self {
        let msrp_address =
            SocketAddr::new(config.msrp.advertised_address(), config.msrp.listen.port());
        Self::with_msrp_address(config, msrp_address)
    }

    /// The composer of a configuration whose MSRP listener is reached at
    /// `msrp_address` (the port it was bound to).
    pub fn with_msrp_address(config: &Config, msrp_address: SocketAddr) -> Self {
        Self {
            routes: arc_swap::ArcSwap::from_pointee(routes_of(config)),
            hostname: config.gateway.hostname.clone(),
            msrp_address,
        }
    }

    /// Routes by the `[[im_domains]]` of `config` from now on.
    pub fn set_routes(&self, config: &Config) {
        self.routes.store(std::sync::Arc::new(routes_of(config)));
    }

    fn route_of(&self, im_uri: &str) -> Option<(SocketAddr, SipTransport)> {
        let host = im_uri
            .split_once('@')?
            .1
            .split([';', '>', ':'])
            .next()?
            .to_ascii_lowercase();
        self.routes
            .load()
            .iter()
            .find(|r| r.domain == host)
            .map(|r| (r.next_hop, r.transport))
    }

    /// The MESSAGE that carries `im` from `sender` to `recipient`, and
    /// where it goes.
    pub fn plan(&self, im: ImMessage, sender: &str, recipient: &str) -> Result<PlannedIm, Verdict> {
        let request = self.message_request(im, sender, recipient)?;
        self.route(request)
    }

    /// Where a written MESSAGE goes (by its Request-URI), and in which
    /// mode: a request kept in the queue is routed again when retried.
    pub fn route(&self, request: Request) -> Result<PlannedIm, Verdict> {
        let route = self.route_of(&request.uri).ok_or_else(|| {
            Verdict::new(
                Kind::NotFound,
                About::Domain,
                format!("No IM system serves {}", request.uri),
            )
        })?;
        let (next_hop, transport) = route;
        Ok(PlannedIm {
            pager: fits_pager(&request),
            request,
            next_hop,
            transport,
        })
    }

    fn message_request(
        &self,
        im: ImMessage,
        sender: &str,
        recipient: &str,
    ) -> Result<Request, Verdict> {
        let bad = |what: String| Verdict::new(Kind::Invalid, About::Content, what);
        let message_id = im.imdn_message_id.clone().unwrap_or_else(crate::ids::token);
        let dispositions = super::wire_dispositions(im.dispositions);
        let date = dates::Timestamp {
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
        let extra_headers = sip_extra_headers(&im.extra_headers);
        let (content_type, content) = if im.attachments.is_empty() {
            (im.content_type, im.body)
        } else {
            with_attachments(im.content_type, im.body, &im.attachments).map_err(bad)?
        };
        // Moved, not copied, and written once into a buffer of its size:
        // a large-mode body is megabytes.
        let mut body = Vec::with_capacity(content.len() + 1024);
        cpim.set_content(content_type, content);
        cpim::write(&cpim, &mut body).map_err(|e| bad(e.to_string()))?;
        let mut headers = Headers::default();
        for (name, value) in extra_headers {
            headers.push(name, value);
        }
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
    pub fn msrp_offer(&self) -> Result<(MsrpUri, Vec<u8>), Verdict> {
        let failed = |what: String| Verdict::fault(&what);
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
            .map_err(|e| failed(format!("cannot make an SDP offer: {e}")))?;
        let mut bytes = Vec::new();
        sdp::write(&offer, &mut bytes)
            .map_err(|e| failed(format!("cannot write the SDP offer: {e}")))?;
        Ok((our_uri, bytes))
    }

    /// What `interwork convert email-to-im` prints: the MESSAGE, or the
    /// INVITE and the SEND chunks (their To-Path comes from the SDP answer,
    /// shown as `answerer.invalid`). Without the Via the SIP endpoint adds.
    pub fn wire_preview(&self, plan: &PlannedIm) -> Vec<(String, Vec<u8>)> {
        let write_sip = |request: &Request| {
            let mut bytes = Vec::new();
            sip::write(&Message::Request(request.clone()), &mut bytes);
            bytes
        };
        if plan.pager {
            return vec![("SIP MESSAGE (pager mode)".into(), write_sip(&plan.request))];
        }
        let Ok((our_uri, offer)) = self.msrp_offer() else {
            return Vec::new();
        };
        let contact = format!("<sip:interwork@{}>", self.msrp_address.ip());
        let mut out = vec![(
            "SIP INVITE (large-message mode)".to_string(),
            write_sip(&invite_of(&plan.request, offer, &contact)),
        )];
        let answerer = MsrpUri::new(false, "answerer.invalid", Some(2855), "from-sdp-answer");
        let message_id = crate::ids::token();
        let chunks = msrp::chunk(
            &plan.request.body,
            "message/cpim",
            &message_id,
            crate::msrp::CHUNK_BYTES,
            crate::ids::token,
            std::slice::from_ref(&answerer),
            std::slice::from_ref(&our_uri),
        );
        let count = chunks.len();
        for (i, chunk) in chunks.enumerate() {
            let mut bytes = Vec::new();
            msrp::write(&Frame::Request(chunk), &mut bytes);
            out.push((format!("MSRP SEND chunk {} of {count}", i + 1), bytes));
        }
        out
    }
}

/// SIP header fields the host writes itself, or that change how the
/// request is routed or processed: a plugin's `extra-headers` of these
/// names are dropped (with a warning).
const HOST_OWNED_SIP: &[&str] = &[
    "via",
    "from",
    "to",
    "call-id",
    "cseq",
    "max-forwards",
    "contact",
    "route",
    "record-route",
    "require",
    "proxy-require",
    "supported",
    "content-type",
    "content-length",
    "content-encoding",
    "content-disposition",
    "expires",
    "authorization",
    "proxy-authorization",
    "p-asserted-identity",
    "p-preferred-identity",
    "conversation-id",
    "contribution-id",
    "inreplyto-contribution-id",
    "subject",
];

/// A plugin's `extra-headers` as SIP header fields of the request:
/// names that are SIP tokens (RFC 3261 §25.1), not the host's, and values
/// without control characters.
fn sip_extra_headers(extra: &[Header]) -> Vec<(String, String)> {
    let token = |name: &str| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
    };
    let mut out = Vec::new();
    for header in extra {
        let lower = header.name.to_ascii_lowercase();
        if HOST_OWNED_SIP.contains(&lower.as_str()) || lower.starts_with("imdn.") {
            tracing::warn!(name = %header.name, "a plugin's extra header the host owns is dropped");
        } else if !token(&header.name) || header.value.chars().any(char::is_control) {
            tracing::warn!(name = %header.name, "a plugin's extra header that SIP cannot carry is dropped");
        } else {
            out.push((header.name.clone(), header.value.clone()));
        }
    }
    out
}

/// The IM's content and attachments as one `multipart/mixed` body, with
/// a boundary that occurs in none of them.
fn with_attachments(
    content_type: String,
    body: Vec<u8>,
    attachments: &[MailPart],
) -> Result<(String, Vec<u8>), String> {
    let mut parts = vec![OutPart {
        content_type: &content_type,
        disposition: None,
        filename: None,
        content_id: None,
        body: &body,
    }];
    parts.extend(attachments.iter().map(|a| OutPart {
        content_type: &a.content_type,
        disposition: a.disposition.as_deref(),
        filename: a.filename.as_deref(),
        content_id: a.content_id.as_deref(),
        body: &a.body,
    }));
    let size = parts.iter().map(|p| p.body.len() + 256).sum();
    for _ in 0..4 {
        let boundary = format!("=_interwork_{}", crate::ids::token());
        let mut out = Vec::with_capacity(size);
        match multipart::write_mixed(&parts, &boundary, &mut out) {
            Ok(()) => return Ok((multipart::mixed_content_type(&boundary), out)),
            Err(multipart::MultipartError::Boundary) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err("no boundary found that the attachments do not hold".into())
}

/// Whether a MESSAGE goes in pager mode (S6 size rule on the whole
/// request, counting the Via the SIP endpoint adds).
fn fits_pager(request: &Request) -> bool {
    // A body past the limit settles it without writing (and copying) a
    // large message to measure it.
    if request.body.len() + VIA_ALLOWANCE > PAGER_LIMIT {
        return false;
    }
    let mut bytes = Vec::new();
    sip::write(&Message::Request(request.clone()), &mut bytes);
    bytes.len() + VIA_ALLOWANCE <= PAGER_LIMIT
}

/// How an IM reached the IM system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// In pager mode; the final response's code and reason.
    Pager(u16, String),
    /// Over MSRP, every chunk answered 200.
    Large,
}

/// Sends planned IMs to the IM system.
pub struct ImSender {
    sip: Arc<dyn SipSender>,
    /// The gateway's SIP Contact (its INVITEs).
    contact: String,
    /// RFC 3261 Timer F: how long a request waits for its final response.
    timer_f: Duration,
    /// How long a whole MSRP transfer may take (RFC 5321 gives the SMTP
    /// client 10 minutes for the DATA reply).
    msrp_timeout: Duration,
}

impl ImSender {
    /// Sends through `sip`, with `contact` as the gateway's Contact.
    pub fn new(sip: Arc<dyn SipSender>, contact: String) -> Self {
        Self {
            sip,
            contact,
            timer_f: Duration::from_secs(32),
            msrp_timeout: Duration::from_secs(300),
        }
    }

    /// Delivers a planned IM in the mode its size asks for.
    pub async fn deliver(
        &self,
        composer: &ImComposer,
        plan: PlannedIm,
    ) -> Result<Delivered, Verdict> {
        if !plan.pager {
            return self.deliver_large(composer, plan).await;
        }
        let mut request = plan.request;
        let response = self
            .sip
            .send_request(&mut request, plan.next_hop, plan.transport, self.timer_f)
            .await;
        let ok = Verdict::of_im_response(&response)?;
        Ok(Delivered::Pager(ok.code, ok.reason.clone()))
    }

    /// Large-message mode (S6): INVITE with an MSRP offer, the CPIM message
    /// in SEND chunks over a connection the gateway opens (RFC 4975 §5.4:
    /// the offerer is active), then BYE.
    async fn deliver_large(
        &self,
        composer: &ImComposer,
        plan: PlannedIm,
    ) -> Result<Delivered, Verdict> {
        let (our_uri, offer) = composer.msrp_offer()?;
        let mut invite = invite_of(&plan.request, offer, &self.contact);
        let response = self
            .sip
            .send_request(&mut invite, plan.next_hop, plan.transport, self.timer_f)
            .await;
        let answer = match Verdict::of_im_response(&response) {
            Ok(answer) => answer,
            Err(verdict) => {
                // A failure is ACKed hop by hop, in its transaction
                // (RFC 3261 §17.1.1.3).
                if let Ok(r) = &response {
                    self.ack(&invite, r, plan.next_hop, plan.transport).await;
                }
                return Err(verdict);
            }
        };
        // The 2xx set up a dialog: its ACK and BYE go within it, through
        // the proxies that record-routed it (§13.2.2.4, §12.2.1.1).
        let dialog = Dialog::of_answer(&invite, answer);
        let hop = dialog.first_hop(plan.next_hop);
        self.ack(&invite, answer, hop, plan.transport).await;
        let sent = self
            .send_over_msrp(answer, &our_uri, &plan.request.body)
            .await;
        // End the session whatever happened (S6: "then end the session").
        let mut bye = bye_of(&invite, answer, &dialog);
        let call_id = invite
            .headers
            .get("Call-ID")
            .unwrap_or_default()
            .to_string();
        match self
            .sip
            .send_request(&mut bye, hop, plan.transport, self.timer_f)
            .await
        {
            Ok(r) if (200..300).contains(&r.code) => {}
            // The far end may keep the session open: say so.
            Ok(r) => {
                tracing::warn!(%call_id, code = r.code, "BYE refused: {} {}", r.code, r.reason)
            }
            Err(e) => tracing::warn!(%call_id, "BYE not answered: {e}"),
        }
        sent.map(|()| Delivered::Large)
    }

    /// Sends the ACK of `response` to `hop`; ACK has no answer, so a
    /// failure to send it is only logged.
    async fn ack(
        &self,
        invite: &Request,
        response: &Response,
        hop: SocketAddr,
        transport: SipTransport,
    ) {
        if let Err(e) = self.sip.send_ack(invite, response, hop, transport).await {
            tracing::warn!("ACK not sent: {e}");
        }
    }

    /// Sends the message over MSRP to the path of the SDP answer.
    async fn send_over_msrp(
        &self,
        answer: &Response,
        our_uri: &MsrpUri,
        content: &[u8],
    ) -> Result<(), Verdict> {
        let failed = |what: String| {
            Verdict::new(Kind::Unreachable, About::ImSystem, format!("MSRP: {what}"))
        };
        let description =
            sdp::parse(&answer.body).map_err(|e| failed(format!("bad SDP answer: {e}")))?;
        let media = description
            .msrp_media()
            .ok_or_else(|| failed("the answer has no MSRP media".into()))?;
        let path: Result<Vec<MsrpUri>, _> =
            media.path.iter().map(|p| p.parse::<MsrpUri>()).collect();
        let path = match path {
            Ok(path) if !path.is_empty() => path,
            _ => return Err(failed("the answer has no usable a=path".into())),
        };
        crate::msrp::send_message(&path, our_uri, content, self.msrp_timeout)
            .await
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugins_extra_headers_go_out_unless_the_host_owns_them() {
        let header = |name: &str, value: &str| Header {
            name: name.into(),
            value: value.into(),
        };
        let out = sip_extra_headers(&[
            header("X-Campaign", "spring"),
            header("Route", "<sip:evil.example>"),
            header("Call-ID", "mine"),
            header("imdn.Message-ID", "x"),
            header("Bad Name", "v"),
            header("X-Folded", "a\r\nVia: forged"),
        ]);
        assert_eq!(out, [("X-Campaign".to_string(), "spring".to_string())]);
    }

    #[test]
    fn attachments_make_a_multipart_body_with_a_fresh_boundary() {
        let png = MailPart {
            content_type: "image/png".into(),
            disposition: Some("attachment".into()),
            filename: Some("p.png".into()),
            content_id: None,
            body: vec![0x89, b'P', b'N', b'G'],
        };
        let (content_type, body) =
            with_attachments("text/plain;charset=utf-8".into(), b"look".to_vec(), &[png]).unwrap();
        let boundary = content_type
            .split("boundary=\"")
            .nth(1)
            .and_then(|b| b.strip_suffix('"'))
            .unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!("--{boundary}\r\nContent-Type: text/plain")));
        assert!(text.contains("Content-Disposition: attachment; filename=\"p.png\""));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }
}
