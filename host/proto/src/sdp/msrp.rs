//! SDP offers and answers for MSRP sessions (RFC 4975 §8, RFC 3264,
//! connection setup per RFC 6135).

use std::net::IpAddr;

use super::SdpError;
use super::model::{Connection, MediaDescription, Origin, SessionDescription, Setup, Timing};

/// What the gateway puts in its own offer or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsrpAnswerParams {
    /// `o=` username (`-` if none).
    pub origin_user: String,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` session version.
    pub session_version: u64,
    /// Our address for `o=` and `c=`.
    pub address: IpAddr,
    /// Our listening port for `m=`.
    pub port: u16,
    /// Our `a=path`: one MSRP URI, or several separated by spaces when
    /// relays are used (next hop first, ours last, RFC 4975 §8.2). An
    /// `msrps:` first URI means TLS (`TCP/TLS/MSRP`).
    pub path: String,
    /// `a=accept-types`; must not be empty (RFC 4975 §8.6).
    pub accept_types: Vec<String>,
    /// `a=accept-wrapped-types`; omitted when empty.
    pub accept_wrapped_types: Vec<String>,
    /// `a=max-size`; omitted when `None`.
    pub max_size: Option<u64>,
}

/// The same fields describe our side of an offer.
pub type MsrpOfferParams = MsrpAnswerParams;

/// Builds the answer to `offer` (RFC 3264 §6).
///
/// * One m-line per offered m-line, in order. The first MSRP m-line with
///   a non-zero port is accepted; every other m-line (other media, a
///   second MSRP line, a line offered with port 0) is rejected by answering
///   port 0 with the offered media, proto and formats.
/// * The answer keeps the offer's transport (`TCP/MSRP` or
///   `TCP/TLS/MSRP`), which must match the scheme of our first path URI.
/// * The direction mirrors the offer's (sendonly ↔ recvonly, RFC 3264
///   §6.1) and `t=` is copied from the offer (RFC 3264 §6).
/// * `a=setup` (RFC 6135 with RFC 4145 §4.1): the gateway can listen, so
///   it answers `passive` to `actpass`, to `active` and to an offer
///   without `a=setup` (RFC 4975's own model, where the offerer connects),
///   and `active` to `passive`. `holdconn` is refused.
///
/// Errors: no usable MSRP m-line, the MSRP m-line has no `a=path`,
/// `holdconn`, a TLS mismatch, or invalid parameters.
pub fn answer_msrp(
    offer: &SessionDescription,
    ours: &MsrpAnswerParams,
) -> Result<SessionDescription, SdpError> {
    let our_path = checked_path(ours)?;
    let mut accepted = false;
    let mut media = Vec::with_capacity(offer.media.len());
    for (index, offered) in offer.media.iter().enumerate() {
        if accepted || !offered.is_msrp() || offered.port == 0 {
            media.push(rejected(offered));
            continue;
        }
        if offered.path.is_empty() {
            return Err(SdpError::MissingPath { media: index });
        }
        if offered.is_tls() != path_uses_tls(&our_path) {
            return Err(SdpError::TransportMismatch {
                offered: offered.proto.clone(),
                reason: "TCP/TLS/MSRP needs an msrps: path and TCP/MSRP an msrp: path",
            });
        }
        let setup = answer_setup(offer.setup_of(offered))?;
        let direction = offered
            .direction
            .or(offer.direction)
            .map(|direction| direction.answered());
        media.push(MediaDescription {
            setup: Some(setup),
            direction,
            ..our_msrp_media(ours, offered.proto.clone(), our_path.clone())
        });
        accepted = true;
    }
    if !accepted {
        return Err(SdpError::NoMsrpMedia);
    }
    Ok(SessionDescription {
        timing: offer.timing.clone(),
        media,
        ..our_session(ours)
    })
}

/// Builds the gateway's own offer: one `m=message` line with our path,
/// accepted types and the given `a=setup`.
///
/// `actpass` is the usual choice (RFC 6135): the answerer, perhaps behind
/// a NAT, then picks who connects. A peer that knows only RFC 4975 ignores
/// `a=setup` and listens, so the gateway then connects.
pub fn msrp_offer(params: &MsrpOfferParams, setup: Setup) -> Result<SessionDescription, SdpError> {
    let path = checked_path(params)?;
    if setup == Setup::HoldConn {
        return Err(SdpError::UnsupportedSetup("holdconn"));
    }
    let proto = if path_uses_tls(&path) {
        "TCP/TLS/MSRP"
    } else {
        "TCP/MSRP"
    };
    let media = MediaDescription {
        setup: Some(setup),
        ..our_msrp_media(params, proto.to_owned(), path)
    };
    Ok(SessionDescription {
        media: vec![media],
        ..our_session(params)
    })
}

/// RFC 6135 connection roles for a gateway that can listen.
fn answer_setup(offered: Option<Setup>) -> Result<Setup, SdpError> {
    match offered {
        // RFC 4975 without RFC 6135: the offerer connects.
        None | Some(Setup::ActPass) | Some(Setup::Active) => Ok(Setup::Passive),
        Some(Setup::Passive) => Ok(Setup::Active),
        Some(Setup::HoldConn) => Err(SdpError::UnsupportedSetup("holdconn")),
    }
}

/// The answer to an m-line we do not take: port 0, same media, proto and
/// formats (RFC 3264 §6).
fn rejected(offered: &MediaDescription) -> MediaDescription {
    MediaDescription {
        media: offered.media.clone(),
        port: 0,
        port_count: None,
        proto: offered.proto.clone(),
        formats: offered.formats.clone(),
        connection: None,
        path: Vec::new(),
        accept_types: Vec::new(),
        accept_wrapped_types: Vec::new(),
        max_size: None,
        setup: None,
        direction: None,
        other_lines: Vec::new(),
    }
}

fn our_msrp_media(ours: &MsrpAnswerParams, proto: String, path: Vec<String>) -> MediaDescription {
    MediaDescription {
        media: "message".to_owned(),
        port: ours.port,
        port_count: None,
        proto,
        // RFC 4975 §8.1: MSRP puts "*" in the format list.
        formats: vec!["*".to_owned()],
        connection: None,
        path,
        accept_types: ours.accept_types.clone(),
        accept_wrapped_types: ours.accept_wrapped_types.clone(),
        max_size: ours.max_size,
        setup: None,
        direction: None,
        other_lines: Vec::new(),
    }
}

fn our_session(ours: &MsrpAnswerParams) -> SessionDescription {
    let addr_type = match ours.address {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    };
    SessionDescription {
        origin: Origin {
            username: ours.origin_user.clone(),
            session_id: ours.session_id.to_string(),
            session_version: ours.session_version.to_string(),
            net_type: "IN".to_owned(),
            addr_type: addr_type.to_owned(),
            address: ours.address.to_string(),
        },
        // RFC 8866 §5.3: s= must not be empty; "-" is the usual filler.
        session_name: "-".to_owned(),
        connection: Some(Connection {
            net_type: "IN".to_owned(),
            addr_type: addr_type.to_owned(),
            address: ours.address.to_string(),
        }),
        timing: vec![Timing {
            start: 0,
            stop: 0,
            repeats: Vec::new(),
        }],
        setup: None,
        direction: None,
        other_lines: Vec::new(),
        media: Vec::new(),
    }
}

/// Our path as a list, after checking the parameters that shape it.
fn checked_path(ours: &MsrpAnswerParams) -> Result<Vec<String>, SdpError> {
    let invalid = |field, reason| SdpError::InvalidValue { field, reason };
    if ours.origin_user.is_empty()
        || ours
            .origin_user
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid("origin_user", "must be one token"));
    }
    if ours.accept_types.is_empty() {
        return Err(invalid(
            "accept_types",
            "RFC 4975 requires at least one type",
        ));
    }
    if ours.path.contains(|c: char| c.is_control()) {
        return Err(invalid("path", "contains a control character"));
    }
    let path: Vec<String> = ours.path.split_whitespace().map(str::to_owned).collect();
    if path.is_empty() {
        return Err(invalid("path", "needs at least one MSRP URI"));
    }
    if !path
        .iter()
        .all(|uri| scheme_is(uri, "msrp://") || scheme_is(uri, "msrps://"))
    {
        return Err(invalid(
            "path",
            "every URI must start with msrp:// or msrps://",
        ));
    }
    Ok(path)
}

fn scheme_is(uri: &str, scheme: &str) -> bool {
    uri.get(..scheme.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
}

/// The first URI is the hop the peer connects to, so it decides TLS.
fn path_uses_tls(path: &[String]) -> bool {
    path.first().is_some_and(|uri| scheme_is(uri, "msrps://"))
}
