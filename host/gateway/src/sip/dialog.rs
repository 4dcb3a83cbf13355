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
use interwork_proto::sip::{CSeq, Headers, Method, NameAddr, Request, Response, Uri};

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
    "multipart/mixed",
    "multipart/related",
    "multipart/alternative",
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
    /// Answers an INVITE with an MSRP offer (S4 step 1). Its content was
    /// judged `application/sdp` by the §8.2 checks (`super::inspection`).
    pub fn invite(&self, request: &Request) -> Answer {
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
            cpm_headers: crate::threads::cpm_headers(request),
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

/// The dialog a 2xx answer to the gateway's INVITE set up, as the UAC sees
/// it (RFC 3261 §12.1.2): the route set is the answer's Record-Route in
/// reverse order, the remote target its Contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Where in-dialog requests are addressed (the answer's Contact URI).
    pub remote_target: String,
    /// The proxies they go through, first hop first.
    pub route_set: Vec<String>,
}

impl Dialog {
    /// The dialog of `answer` to `invite`.
    pub fn of_answer(invite: &Request, answer: &Response) -> Self {
        let remote_target = answer
            .headers
            .get("Contact")
            .and_then(|c| NameAddr::parse(c).ok())
            .map_or_else(|| invite.uri.clone(), |c| c.uri);
        let route_set = answer
            .headers
            .get_all("Record-Route")
            .into_iter()
            .rev()
            .map(str::to_string)
            .collect();
        Self {
            remote_target,
            route_set,
        }
    }

    fn first_route(&self) -> Option<String> {
        let first = self.route_set.first()?;
        NameAddr::parse(first).ok().map(|route| route.uri)
    }

    /// Addresses `request` within the dialog (§12.2.1.1): to the remote
    /// target with the route set as Route when the first proxy is a loose
    /// router (`;lr`, RFC 3261 proxies); to the first proxy, with the
    /// remote target last in Route, for a strict router (RFC 2543).
    pub fn address(&self, request: &mut Request) {
        let loose = self.first_route().and_then(|uri| {
            Uri::parse(&uri)
                .ok()
                .map(|u| u.params.iter().any(|(n, _)| *n == "lr"))
        });
        match loose {
            None => request.uri = self.remote_target.clone(),
            Some(true) => {
                request.uri = self.remote_target.clone();
                for route in &self.route_set {
                    request.headers.push("Route", route.clone());
                }
            }
            Some(false) => {
                request.uri = self.first_route().unwrap_or_default();
                for route in &self.route_set[1..] {
                    request.headers.push("Route", route.clone());
                }
                request
                    .headers
                    .push("Route", format!("<{}>", self.remote_target));
            }
        }
    }

    /// Where an in-dialog request is sent first: the first proxy of the
    /// route set when it names an IP address (its port, or 5060), else
    /// `default` — the IM system's next hop, which is that proxy in any
    /// deployment the gateway is configured for.
    pub fn first_hop(&self, default: SocketAddr) -> SocketAddr {
        let Some(route) = self.first_route() else {
            return default;
        };
        let Ok(uri) = Uri::parse(&route) else {
            return default;
        };
        let ip = uri
            .host
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<std::net::IpAddr>().ok());
        match ip {
            Some(ip) => SocketAddr::new(ip, uri.port.unwrap_or(5060)),
            None => default,
        }
    }
}

/// The ACK of an INVITE's final response. For a non-2xx it is part of the
/// INVITE transaction: same branch, same Request-URI, hop by hop (RFC 3261
/// §17.1.1.3); for a 2xx it is a new transaction with a new branch, sent
/// within the dialog (§13.2.2.4).
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
    let mut ack = Request {
        method: Method::Ack,
        uri: invite.uri.clone(),
        headers,
        body: Vec::new(),
    };
    if (200..300).contains(&response.code) {
        Dialog::of_answer(invite, response).address(&mut ack);
    }
    ack
}

/// The BYE that ends the session the 2xx `answer` to `invite` set up,
/// within its `dialog`: From, To (with the answer's tag), Call-ID, the
/// next CSeq (§12.2.1.1), addressed by the dialog's route set.
pub fn bye_of(invite: &Request, answer: &Response, dialog: &Dialog) -> Request {
    let mut bye = Request {
        method: Method::Bye,
        uri: String::new(),
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
    let invite_cseq = invite
        .headers
        .get("CSeq")
        .and_then(|c| CSeq::parse(c).ok())
        .map_or(1, |c| c.number);
    bye.headers.push("CSeq", format!("{} BYE", invite_cseq + 1));
    dialog.address(&mut bye);
    bye
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> Request {
        let mut headers = Headers::default();
        headers.push("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKinv;rport");
        headers.push("From", "<sip:bob@mail.example.test>;tag=f");
        headers.push("To", "<sip:alice@im.example.test>");
        headers.push("Call-ID", "c1@gw");
        headers.push("CSeq", "1 INVITE");
        Request {
            method: Method::Invite,
            uri: "sip:alice@im.example.test".into(),
            headers,
            body: Vec::new(),
        }
    }

    fn answer(record_route: &[&str]) -> Response {
        let mut response = Response::to(&invite(), 200, "OK", "t");
        response
            .headers
            .push("Contact", "<sip:alice@127.0.0.1:24082>");
        for rr in record_route {
            response.headers.push("Record-Route", *rr);
        }
        response
    }

    #[test]
    fn ack_and_bye_follow_the_route_set_of_a_loose_router() {
        // Kamailio's two record-routes (UDP in, TCP out), as a 2xx brings them.
        let answer = answer(&[
            "<sip:127.0.0.1:24070;transport=tcp;r2=on;lr;ftag=f>",
            "<sip:127.0.0.1:24070;r2=on;lr;ftag=f>",
        ]);
        let ack = ack_of(&invite(), &answer);
        assert_eq!(ack.uri, "sip:alice@127.0.0.1:24082");
        assert_eq!(
            ack.headers.get_all("Route"),
            vec![
                "<sip:127.0.0.1:24070;r2=on;lr;ftag=f>",
                "<sip:127.0.0.1:24070;transport=tcp;r2=on;lr;ftag=f>"
            ]
        );
        let bye = bye_of(&invite(), &answer, &Dialog::of_answer(&invite(), &answer));
        assert_eq!(bye.uri, "sip:alice@127.0.0.1:24082");
        assert_eq!(bye.headers.get("CSeq"), Some("2 BYE"));
        assert_eq!(bye.headers.get_all("Route").len(), 2);
        let dialog = Dialog::of_answer(&invite(), &answer);
        let default = "192.0.2.1:5070".parse().unwrap();
        assert_eq!(
            dialog.first_hop(default),
            "127.0.0.1:24070".parse().unwrap()
        );
    }

    #[test]
    fn without_record_route_in_dialog_requests_go_to_the_contact() {
        let answer = answer(&[]);
        let bye = bye_of(&invite(), &answer, &Dialog::of_answer(&invite(), &answer));
        assert_eq!(bye.uri, "sip:alice@127.0.0.1:24082");
        assert!(bye.headers.get("Route").is_none());
        let default = "192.0.2.1:5070".parse().unwrap();
        assert_eq!(
            Dialog::of_answer(&invite(), &answer).first_hop(default),
            default
        );
        // A non-2xx ACK stays hop by hop, to the INVITE's Request-URI.
        let refused = Response::to(&invite(), 486, "Busy Here", "t");
        assert_eq!(ack_of(&invite(), &refused).uri, "sip:alice@im.example.test");
    }

    #[test]
    fn a_strict_router_gets_the_request_uri() {
        let answer = answer(&["<sip:192.0.2.7:5060>"]);
        let bye = bye_of(&invite(), &answer, &Dialog::of_answer(&invite(), &answer));
        assert_eq!(bye.uri, "sip:192.0.2.7:5060");
        assert_eq!(
            bye.headers.get_all("Route"),
            vec!["<sip:alice@127.0.0.1:24082>"]
        );
    }

    #[test]
    fn the_answer_to_an_invite_copies_its_record_route() {
        let mut request = invite();
        request
            .headers
            .push("Record-Route", "<sip:127.0.0.1:24070;lr>");
        let ok = Response::to(&request, 200, "OK", "t");
        assert_eq!(
            ok.headers.get("Record-Route"),
            Some("<sip:127.0.0.1:24070;lr>")
        );
        let refused = Response::to(&request, 486, "Busy Here", "t");
        assert!(refused.headers.get("Record-Route").is_none());
    }
}
