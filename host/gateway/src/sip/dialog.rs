//! The dialogs of large-message mode (SPEC S4, S6): an INVITE sets up an
//! MSRP session, BYE ends it.
//!
//! * Receiving (IM → e-mail): [`MsrpSessionSetup`] answers the IM side's
//!   INVITE with the gateway's SDP (RFC 4975 §8, RFC 6135: the gateway is
//!   passive), BYE and CANCEL.
//! * Sending (e-mail → IM): [`invite_of`], [`ack_of`] and [`bye_of`] build the
//!   gateway's own INVITE, its ACK (RFC 3261 §17.1.1.3, §13.2.2.4) and the
//!   BYE that ends the session (§15.1.1).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use interwork_proto::msrp::MsrpUri;
use interwork_proto::sdp::{self, MsrpAnswerParams};
use interwork_proto::sip::{Headers, Method, NameAddr, Request, Response};

use super::Answer;
use crate::im::incoming::sender_of;
use crate::msrp::{Session, Sessions};
use crate::outcome::{About, Kind, Verdict};

/// What the gateway offers in its SDP answers.
#[derive(Debug, Clone)]
pub struct MsrpOffer {
    /// Where the MSRP listener is reached.
    pub address: SocketAddr,
    /// `a=max-size`.
    pub max_size: u64,
    /// The SIP Contact of the gateway.
    pub contact: String,
}

/// Content the gateway takes over MSRP: CPIM (`a=accept-types`) wrapping
/// any of these (`a=accept-wrapped-types`), or these directly.
const ACCEPT_WRAPPED_TYPES: &[&str] = &[
    "text/plain",
    "text/*",
    "image/*",
    "audio/*",
    "video/*",
    "application/*",
];

/// The INVITE / BYE / CANCEL side of large-message mode.
pub struct MsrpSessionSetup {
    /// The live sessions, shared with the MSRP listener.
    pub sessions: Arc<Sessions>,
    /// What the SDP answers say.
    pub offer: MsrpOffer,
    /// The `Warning` agent of its answers (the gateway's host name).
    pub agent: String,
}

impl MsrpSessionSetup {
    /// Answers an INVITE with an MSRP offer (S4 step 1).
    pub fn invite(&self, request: &Request) -> Answer {
        let content_type = request.headers.get("Content-Type").unwrap_or_default();
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/sdp")
        {
            return Answer::new(415, "Unsupported Media Type").with("Accept", "application/sdp");
        }
        let offer = match sdp::parse(&request.body) {
            Ok(offer) => offer,
            Err(e) => {
                return Answer::new(400, "Bad Request")
                    .warning(&self.agent, &format!("bad SDP: {e}"));
            }
        };
        let Some(media) = offer.msrp_media() else {
            return Answer::new(488, "Not Acceptable Here")
                .warning(&self.agent, "no MSRP media (m=message TCP/MSRP)");
        };
        let peer_path: Result<Vec<MsrpUri>, _> =
            media.path.iter().map(|p| p.parse::<MsrpUri>()).collect();
        let peer_path = match peer_path {
            Ok(path) if !path.is_empty() => path,
            _ => {
                return Answer::new(488, "Not Acceptable Here")
                    .warning(&self.agent, "bad or missing a=path");
            }
        };
        let sender = match sender_of(request) {
            Ok(sender) => sender,
            Err(verdict) => return verdict.sip_answer(&self.agent),
        };
        let id = crate::ids::token();
        let our_uri = MsrpUri::new(
            false,
            self.offer.address.ip().to_string(),
            Some(self.offer.address.port()),
            id.clone(),
        );
        let params = MsrpAnswerParams {
            origin_user: "interwork".into(),
            session_id: crate::ids::unique_u64() >> 1,
            session_version: 1,
            address: self.offer.address.ip(),
            port: self.offer.address.port(),
            path: our_uri.to_string(),
            accept_types: std::iter::once("message/cpim")
                .chain(ACCEPT_WRAPPED_TYPES.iter().copied())
                .map(str::to_string)
                .collect(),
            accept_wrapped_types: ACCEPT_WRAPPED_TYPES.iter().map(|t| t.to_string()).collect(),
            max_size: Some(self.offer.max_size),
        };
        let answer = match sdp::answer_msrp(&offer, &params) {
            Ok(answer) => answer,
            Err(e) => {
                return Answer::new(488, "Not Acceptable Here")
                    .warning(&self.agent, &e.to_string());
            }
        };
        let mut body = Vec::new();
        if let Err(e) = sdp::write(&answer, &mut body) {
            return Answer::new(500, "Server Internal Error").warning(&self.agent, &e.to_string());
        }
        let session = Session {
            id,
            call_id: request
                .headers
                .get("Call-ID")
                .unwrap_or_default()
                .to_string(),
            sender,
            recipient: request.uri.clone(),
            subject: request.headers.get("Subject").map(str::to_string),
            peer_path,
            our_uri,
            created: Instant::now(),
        };
        tracing::info!(session = %session.id, sender = %session.sender, recipient = %session.recipient, "MSRP session set up");
        if !self.sessions.insert(session) {
            return Verdict::new(Kind::Busy, About::Gateway, "too many MSRP sessions")
                .sip_answer(&self.agent);
        }
        let mut answer = Answer::new(200, "OK").with("Contact", self.offer.contact.clone());
        answer.body = Some(("application/sdp".into(), body));
        answer
    }

    /// BYE ends the session (S4 step 4).
    pub fn bye(&self, request: &Request) -> Answer {
        let call_id = request.headers.get("Call-ID").unwrap_or_default();
        if self.sessions.end_call(call_id) {
            Answer::new(200, "OK")
        } else {
            Answer::new(481, "Call/Transaction Does Not Exist")
        }
    }

    /// CANCEL: INVITEs are answered at once, so there is never a pending one
    /// to cancel; the CANCEL itself is answered (RFC 3261 §9.2).
    pub fn cancel(&self, request: &Request) -> Answer {
        let call_id = request.headers.get("Call-ID").unwrap_or_default();
        if self.sessions.has_call(call_id) {
            Answer::new(200, "OK")
        } else {
            Answer::new(481, "Call/Transaction Does Not Exist")
        }
    }
}

/// The INVITE of a large-message session for a planned MESSAGE: the same
/// dialog identifiers, the SDP offer as body, our Contact.
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

/// The ACK of an INVITE's final response. For a non-2xx it is part of the
/// INVITE transaction: same branch, hop by hop (RFC 3261 §17.1.1.3); for a
/// 2xx it is a new transaction with a new branch (§13.2.2.4).
pub fn ack_of(invite: &Request, response: &Response) -> Request {
    let mut headers = Headers::default();
    let invite_via = invite.headers.get("Via").unwrap_or_default().to_string();
    let via = if response.code >= 300 {
        invite_via
    } else {
        match invite_via.split_once(";branch=") {
            Some((sent_by, _)) => {
                format!("{sent_by};branch=z9hG4bK{};rport", crate::ids::token())
            }
            None => invite_via,
        }
    };
    headers.push("Via", via);
    headers.push("Max-Forwards", "70");
    for name in ["From", "Call-ID"] {
        headers.push(name, invite.headers.get(name).unwrap_or_default());
    }
    headers.push("To", response.headers.get("To").unwrap_or_default());
    let cseq = invite.headers.get("CSeq").unwrap_or_default();
    headers.push("CSeq", cseq.replace("INVITE", "ACK"));
    Request {
        method: Method::Ack,
        uri: invite.uri.clone(),
        headers,
        body: Vec::new(),
    }
}

/// The BYE that ends the session the 2xx `answer` to `invite` set up: to
/// the answer's Contact (the remote target, RFC 3261 §12.1.2), in the
/// dialog of From, To (with the answer's tag) and Call-ID.
pub fn bye_of(invite: &Request, answer: &Response) -> Request {
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
    bye
}
