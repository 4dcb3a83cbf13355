//! The parts of a session description (RFC 8866 §5) the gateway uses,
//! with every other line kept verbatim.

/// A whole session description. `v=0` is implied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=` (RFC 8866 §5.2).
    pub origin: Origin,
    /// `s=` text, exactly as written (RFC 4975 examples use `s= -`).
    pub session_name: String,
    /// Session-level `c=` (RFC 8866 §5.7).
    pub connection: Option<Connection>,
    /// `t=` lines with their `r=` lines (RFC 8866 §5.9, §5.10).
    pub timing: Vec<Timing>,
    /// Session-level `a=setup` (RFC 4145 §4, RFC 6135).
    pub setup: Option<Setup>,
    /// Session-level direction attribute (RFC 3264 §5.1).
    pub direction: Option<Direction>,
    /// Every other session-level line, in RFC 8866 order.
    pub other_lines: Vec<SdpLine>,
    /// `m=` sections in order.
    pub media: Vec<MediaDescription>,
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `-` when there is no user.
    pub username: String,
    /// Kept as text: it is only compared, and peers send more digits than
    /// fit in 64 bits.
    pub session_id: String,
    /// Kept as text, see `session_id`.
    pub session_version: String,
    /// `IN`.
    pub net_type: String,
    /// `IP4` or `IP6`.
    pub addr_type: String,
    /// Address or host name.
    pub address: String,
}

/// `c=<nettype> <addrtype> <connection-address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `IN`.
    pub net_type: String,
    /// `IP4` or `IP6`.
    pub addr_type: String,
    /// Address or host name (with `/ttl` for multicast, kept as text).
    pub address: String,
}

/// A `t=` line and the `r=` lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// NTP start time, 0 for unbounded.
    pub start: u64,
    /// NTP stop time, 0 for unbounded.
    pub stop: u64,
    /// Raw `r=` values.
    pub repeats: Vec<String>,
}

/// One media section (`m=` and the lines after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// `message` for MSRP.
    pub media: String,
    /// 0 means the stream is rejected or disabled (RFC 3264 §6).
    pub port: u16,
    /// The `/<number of ports>` suffix, if any.
    pub port_count: Option<u16>,
    /// `TCP/MSRP`, `TCP/TLS/MSRP`, `RTP/AVP`, ...
    pub proto: String,
    /// Format list; `*` for MSRP (RFC 4975 §8.1).
    pub formats: Vec<String>,
    /// Media-level `c=`.
    pub connection: Option<Connection>,
    /// `a=path`: MSRP URIs, next hop first, the endpoint last (RFC 4975 §8.2).
    pub path: Vec<String>,
    /// `a=accept-types` (RFC 4975 §8.6).
    pub accept_types: Vec<String>,
    /// `a=accept-wrapped-types` (RFC 4975 §8.6).
    pub accept_wrapped_types: Vec<String>,
    /// `a=max-size` in octets (RFC 4975 §8.6).
    pub max_size: Option<u64>,
    /// `a=setup` (RFC 4145 §4, RFC 6135).
    pub setup: Option<Setup>,
    /// Direction attribute (RFC 3264 §5.1).
    pub direction: Option<Direction>,
    /// Every other media-level line, in RFC 8866 order.
    pub other_lines: Vec<SdpLine>,
}

/// A line kept as it was: its type letter and the text after `=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpLine {
    /// Type letter (`a`, `b`, `i`, ...).
    pub kind: char,
    /// Everything after `=`, untouched.
    pub value: String,
}

/// Who opens the TCP connection (RFC 4145 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// This side connects.
    Active,
    /// This side listens.
    Passive,
    /// This side can do either; the answerer picks.
    ActPass,
    /// No connection for now.
    HoldConn,
}

impl Setup {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::ActPass => "actpass",
            Self::HoldConn => "holdconn",
        }
    }

    /// Reads an attribute value.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Active, Self::Passive, Self::ActPass, Self::HoldConn]
            .into_iter()
            .find(|setup| setup.as_str() == value)
    }
}

/// Media direction (RFC 3264 §5.1); absent means `sendrecv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv`
    SendRecv,
    /// `a=sendonly`
    SendOnly,
    /// `a=recvonly`
    RecvOnly,
    /// `a=inactive`
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// Reads an attribute name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::SendRecv,
            Self::SendOnly,
            Self::RecvOnly,
            Self::Inactive,
        ]
        .into_iter()
        .find(|direction| direction.as_str() == name)
    }

    /// The direction an answer takes for this offered one (RFC 3264 §6.1).
    pub fn answered(self) -> Self {
        match self {
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            other => other,
        }
    }
}

impl MediaDescription {
    /// True for an MSRP media line: `m=message <port> TCP/MSRP` or
    /// `TCP/TLS/MSRP` (RFC 4975 §8.1).
    pub fn is_msrp(&self) -> bool {
        self.media.eq_ignore_ascii_case("message")
            && (self.proto.eq_ignore_ascii_case("TCP/MSRP")
                || self.proto.eq_ignore_ascii_case("TCP/TLS/MSRP"))
    }

    /// True if the transport is TLS (`TCP/TLS/MSRP`, RFC 4975 §8.1).
    pub fn is_tls(&self) -> bool {
        self.proto.eq_ignore_ascii_case("TCP/TLS/MSRP")
    }
}

impl SessionDescription {
    /// The first MSRP media section with a non-zero port.
    pub fn msrp_media(&self) -> Option<&MediaDescription> {
        self.media.iter().find(|m| m.is_msrp() && m.port != 0)
    }

    /// The `a=setup` in force for `media`: its own, else the session's.
    pub fn setup_of(&self, media: &MediaDescription) -> Option<Setup> {
        media.setup.or(self.setup)
    }

    /// The direction in force for `media`: its own, else the session's,
    /// else `sendrecv` (RFC 3264 §5.1).
    pub fn direction_of(&self, media: &MediaDescription) -> Direction {
        media
            .direction
            .or(self.direction)
            .unwrap_or(Direction::SendRecv)
    }
}

/// Position of a kept line in RFC 8866 §5 order, per level; `None` if the
/// letter cannot be kept at that level (it is typed, or not allowed).
pub(crate) fn session_line_rank(kind: char) -> Option<u8> {
    match kind {
        'i' => Some(1),
        'u' => Some(2),
        'e' => Some(3),
        'p' => Some(4),
        // c= comes here (typed)
        'b' => Some(5),
        // t= and r= come here (typed)
        'z' => Some(6),
        'k' => Some(7),
        'a' => Some(8),
        _ => None,
    }
}

/// See [`session_line_rank`].
pub(crate) fn media_line_rank(kind: char) -> Option<u8> {
    match kind {
        'i' => Some(1),
        // c= comes here (typed)
        'b' => Some(2),
        'k' => Some(3),
        'a' => Some(4),
        _ => None,
    }
}

/// Session ranks up to this one are written before `c=`.
pub(crate) const SESSION_RANK_BEFORE_CONNECTION: u8 = 4;
/// Session ranks up to this one are written before `t=`.
pub(crate) const SESSION_RANK_BEFORE_TIMING: u8 = 5;
/// Session ranks up to this one are written before the attributes.
pub(crate) const SESSION_RANK_BEFORE_ATTRIBUTES: u8 = 7;
/// Media ranks up to this one are written before `c=`.
pub(crate) const MEDIA_RANK_BEFORE_CONNECTION: u8 = 1;
/// Media ranks up to this one are written before the attributes.
pub(crate) const MEDIA_RANK_BEFORE_ATTRIBUTES: u8 = 3;
