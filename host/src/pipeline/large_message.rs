//! Large-message mode of IM → e-mail (SPEC S4): the INVITE that sets up an
//! MSRP session (answered with the gateway's SDP), BYE and CANCEL, and the
//! delivery of each complete MSRP message like a pager one.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use super::im_to_email::{ImToEmail, now};
use super::{Answer, im_from_content, sender_of};
use crate::msrp::MsrpUri;
use crate::msrp_session::{MessageSink, Session, Sessions};
use crate::sdp::{self, MsrpAnswerParams};
use crate::sip::Request;

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

/// Content the gateway takes over MSRP (`a=accept-types`): CPIM wrapping
/// anything, or plain text and media directly.
const ACCEPT_TYPES: &[&str] = &[
    "message/cpim",
    "text/plain",
    "text/*",
    "image/*",
    "audio/*",
    "video/*",
    "application/*",
];
const ACCEPT_WRAPPED_TYPES: &[&str] = &[
    "text/plain",
    "text/*",
    "image/*",
    "audio/*",
    "video/*",
    "application/*",
];

/// The INVITE / BYE / CANCEL side of large-message mode.
pub struct LargeMessages {
    pub sessions: Arc<Sessions>,
    pub offer: MsrpOffer,
}

impl LargeMessages {
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
                    .warning("interwork", &format!("bad SDP: {e}"));
            }
        };
        let Some(media) = offer.msrp_media() else {
            return Answer::new(488, "Not Acceptable Here")
                .warning("interwork", "no MSRP media (m=message TCP/MSRP)");
        };
        let peer_path: Result<Vec<MsrpUri>, _> =
            media.path.iter().map(|p| p.parse::<MsrpUri>()).collect();
        let peer_path = match peer_path {
            Ok(path) if !path.is_empty() => path,
            _ => {
                return Answer::new(488, "Not Acceptable Here")
                    .warning("interwork", "bad or missing a=path");
            }
        };
        let sender = match sender_of(request) {
            Ok(sender) => sender,
            Err(answer) => return answer,
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
            accept_types: ACCEPT_TYPES.iter().map(|t| t.to_string()).collect(),
            accept_wrapped_types: ACCEPT_WRAPPED_TYPES.iter().map(|t| t.to_string()).collect(),
            max_size: Some(self.offer.max_size),
        };
        let answer = match sdp::answer_msrp(&offer, &params) {
            Ok(answer) => answer,
            Err(e) => {
                return Answer::new(488, "Not Acceptable Here")
                    .warning("interwork", &e.to_string());
            }
        };
        let mut body = Vec::new();
        if let Err(e) = sdp::write(&answer, &mut body) {
            return Answer::new(500, "Server Internal Error").warning("interwork", &e.to_string());
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
            return Answer::temporary(486, "Busy Here", 30);
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

/// Complete MSRP messages go the way pager messages go (S4 step 3).
pub struct MsrpToEmail(pub Arc<ImToEmail>);

impl MessageSink for MsrpToEmail {
    fn deliver(
        &self,
        session: Arc<Session>,
        content_type: Option<String>,
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send>> {
        let pipeline = self.0.clone();
        Box::pin(async move {
            match im_from_content(
                content_type.as_deref(),
                &body,
                &session.sender,
                &session.recipient,
                session.subject.as_deref(),
                now(),
            ) {
                Ok(im) => pipeline.deliver(im).await,
                Err(answer) => answer,
            }
        })
    }
}
