//! Reading a session description (RFC 8866 §5).

use super::SdpError;
use super::model::{
    Connection, Direction, MediaDescription, Origin, SdpLine, SessionDescription, Setup, Timing,
    media_line_rank, session_line_rank,
};

/// Reads a complete session description.
///
/// Lenient about layout, strict about content: lines may end in CRLF or LF
/// and may carry leading indentation or padding between fields (as SIPp
/// scenario files produce); blank lines are skipped. But `v=0` must come
/// first, `o=`, `s=` and `t=` must be present, every line must be
/// `<letter>=<value>` with a letter SDP defines, and the fields the
/// gateway uses must be well formed. Unknown attributes and other lines
/// are kept in [`SessionDescription::other_lines`] /
/// [`MediaDescription::other_lines`].
pub fn parse(input: &[u8]) -> Result<SessionDescription, SdpError> {
    let text = std::str::from_utf8(input).map_err(|_| SdpError::NotUtf8)?;
    let mut builder = Builder::default();
    for (index, raw_line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line).trim_start();
        if line.trim_end().is_empty() {
            continue;
        }
        if line.contains(|c: char| c.is_control() && c != '\t') {
            return Err(malformed(line_number, "control character in line"));
        }
        let (kind, value) = split_line(line, line_number)?;
        builder.add(kind, value, line_number)?;
    }
    builder.finish()
}

fn malformed(line: usize, reason: &str) -> SdpError {
    SdpError::MalformedLine {
        line,
        reason: reason.to_owned(),
    }
}

/// `<type>=<value>` with a single lower-case letter (RFC 8866 §5).
fn split_line(line: &str, line_number: usize) -> Result<(char, &str), SdpError> {
    let bytes = line.as_bytes();
    match (bytes.first(), bytes.get(1)) {
        (Some(kind), Some(b'=')) if kind.is_ascii_lowercase() => {
            Ok((char::from(*kind), &line[2..]))
        }
        _ => Err(malformed(line_number, "expected <letter>=<value>")),
    }
}

#[derive(Default)]
struct Builder {
    seen_version: bool,
    origin: Option<Origin>,
    session_name: Option<String>,
    connection: Option<Connection>,
    timing: Vec<Timing>,
    setup: Option<Setup>,
    direction: Option<Direction>,
    other_lines: Vec<SdpLine>,
    media: Vec<MediaDescription>,
}

impl Builder {
    fn add(&mut self, kind: char, value: &str, line: usize) -> Result<(), SdpError> {
        if !self.seen_version {
            if kind != 'v' || value.trim() != "0" {
                return Err(malformed(line, "a session description must start with v=0"));
            }
            self.seen_version = true;
            return Ok(());
        }
        if kind == 'm' {
            self.media.push(parse_media_line(value, line)?);
            return Ok(());
        }
        match self.media.last_mut() {
            Some(media) => add_media_line(media, kind, value, line),
            None => self.add_session_line(kind, value, line),
        }
    }

    fn add_session_line(&mut self, kind: char, value: &str, line: usize) -> Result<(), SdpError> {
        match kind {
            'v' => Err(duplicate(line, "v=")),
            'o' => set_once(&mut self.origin, parse_origin(value, line)?, line, "o="),
            's' => set_once(&mut self.session_name, value.to_owned(), line, "s="),
            'c' => set_once(
                &mut self.connection,
                parse_connection(value, line)?,
                line,
                "c=",
            ),
            't' => {
                self.timing.push(parse_timing(value, line)?);
                Ok(())
            }
            'r' => match self.timing.last_mut() {
                Some(timing) => {
                    timing.repeats.push(value.to_owned());
                    Ok(())
                }
                None => Err(malformed(line, "r= must follow a t= line")),
            },
            'a' => {
                let (name, attribute_value) = split_attribute(value);
                if name == "setup" {
                    let setup = parse_setup(attribute_value, line)?;
                    set_once(&mut self.setup, setup, line, "a=setup")
                } else if let Some(direction) = Direction::parse(name) {
                    set_once(&mut self.direction, direction, line, "direction attribute")
                } else {
                    keep(&mut self.other_lines, kind, value);
                    Ok(())
                }
            }
            _ if session_line_rank(kind).is_some() => {
                keep(&mut self.other_lines, kind, value);
                Ok(())
            }
            _ => Err(SdpError::UnknownLineType { line, kind }),
        }
    }

    fn finish(mut self) -> Result<SessionDescription, SdpError> {
        if !self.seen_version {
            return Err(SdpError::MissingLine("v="));
        }
        if self.timing.is_empty() {
            return Err(SdpError::MissingLine("t="));
        }
        // Writing puts kept lines in RFC 8866 order; sorting here (stable)
        // makes a parsed description write and re-parse identically even
        // when the peer's lines were out of order.
        self.other_lines
            .sort_by_key(|line| session_line_rank(line.kind));
        for media in &mut self.media {
            media
                .other_lines
                .sort_by_key(|line| media_line_rank(line.kind));
        }
        Ok(SessionDescription {
            origin: self.origin.ok_or(SdpError::MissingLine("o="))?,
            session_name: self.session_name.ok_or(SdpError::MissingLine("s="))?,
            connection: self.connection,
            timing: self.timing,
            setup: self.setup,
            direction: self.direction,
            other_lines: self.other_lines,
            media: self.media,
        })
    }
}

fn add_media_line(
    media: &mut MediaDescription,
    kind: char,
    value: &str,
    line: usize,
) -> Result<(), SdpError> {
    match kind {
        'c' => set_once(
            &mut media.connection,
            parse_connection(value, line)?,
            line,
            "c=",
        ),
        'a' => add_media_attribute(media, value, line),
        _ if media_line_rank(kind).is_some() => {
            keep(&mut media.other_lines, kind, value);
            Ok(())
        }
        'v' | 'o' | 's' | 'u' | 'e' | 'p' | 't' | 'r' | 'z' => Err(malformed(
            line,
            "session-level line inside a media description",
        )),
        _ => Err(SdpError::UnknownLineType { line, kind }),
    }
}

fn add_media_attribute(
    media: &mut MediaDescription,
    value: &str,
    line: usize,
) -> Result<(), SdpError> {
    let (name, attribute_value) = split_attribute(value);
    match name {
        "path" => set_once(
            &mut media.path,
            uri_list(attribute_value, line, "a=path")?,
            line,
            "a=path",
        ),
        "accept-types" => set_once(
            &mut media.accept_types,
            uri_list(attribute_value, line, "a=accept-types")?,
            line,
            "a=accept-types",
        ),
        "accept-wrapped-types" => set_once(
            &mut media.accept_wrapped_types,
            uri_list(attribute_value, line, "a=accept-wrapped-types")?,
            line,
            "a=accept-wrapped-types",
        ),
        "max-size" => {
            let size = attribute_value
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| malformed(line, "a=max-size must be a number of octets"))?;
            set_once(&mut media.max_size, size, line, "a=max-size")
        }
        "setup" => {
            let setup = parse_setup(attribute_value, line)?;
            set_once(&mut media.setup, setup, line, "a=setup")
        }
        _ => match Direction::parse(name) {
            Some(direction) => {
                set_once(&mut media.direction, direction, line, "direction attribute")
            }
            None => {
                keep(&mut media.other_lines, 'a', value);
                Ok(())
            }
        },
    }
}

/// Typed values may appear once; a list or option that is already filled
/// means a duplicate line.
trait Slot<T> {
    fn fill(&mut self, value: T) -> bool;
}

impl<T> Slot<T> for Option<T> {
    fn fill(&mut self, value: T) -> bool {
        self.replace(value).is_none()
    }
}

impl<T> Slot<Vec<T>> for Vec<T> {
    fn fill(&mut self, value: Vec<T>) -> bool {
        let was_empty = self.is_empty();
        *self = value;
        was_empty
    }
}

fn set_once<T, S: Slot<T>>(
    slot: &mut S,
    value: T,
    line: usize,
    what: &str,
) -> Result<(), SdpError> {
    if slot.fill(value) {
        Ok(())
    } else {
        Err(duplicate(line, what))
    }
}

fn duplicate(line: usize, what: &str) -> SdpError {
    malformed(line, &format!("more than one {what} line"))
}

fn keep(lines: &mut Vec<SdpLine>, kind: char, value: &str) {
    lines.push(SdpLine {
        kind,
        value: value.to_owned(),
    });
}

/// `name[:value]` of an `a=` line; the name loses trailing padding.
fn split_attribute(value: &str) -> (&str, Option<&str>) {
    match value.split_once(':') {
        Some((name, rest)) => (name.trim_end(), Some(rest)),
        None => (value.trim_end(), None),
    }
}

fn parse_setup(value: Option<&str>, line: usize) -> Result<Setup, SdpError> {
    value
        .and_then(|v| Setup::parse(v.trim()))
        .ok_or_else(|| malformed(line, "a=setup must be active, passive, actpass or holdconn"))
}

/// A space-separated list such as `a=path` or `a=accept-types`.
fn uri_list(value: Option<&str>, line: usize, what: &str) -> Result<Vec<String>, SdpError> {
    let items: Vec<String> = value
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if items.is_empty() {
        return Err(malformed(line, &format!("{what} needs at least one value")));
    }
    Ok(items)
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`
/// (RFC 8866 §5.2).
fn parse_origin(value: &str, line: usize) -> Result<Origin, SdpError> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [
        username,
        session_id,
        session_version,
        net_type,
        addr_type,
        address,
    ] = fields[..]
    else {
        return Err(malformed(line, "o= needs exactly 6 fields"));
    };
    if !is_digits(session_id) || !is_digits(session_version) {
        return Err(malformed(line, "o= session id and version must be numeric"));
    }
    Ok(Origin {
        username: username.to_owned(),
        session_id: session_id.to_owned(),
        session_version: session_version.to_owned(),
        net_type: net_type.to_owned(),
        addr_type: addr_type.to_owned(),
        address: address.to_owned(),
    })
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7).
fn parse_connection(value: &str, line: usize) -> Result<Connection, SdpError> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [net_type, addr_type, address] = fields[..] else {
        return Err(malformed(line, "c= needs exactly 3 fields"));
    };
    Ok(Connection {
        net_type: net_type.to_owned(),
        addr_type: addr_type.to_owned(),
        address: address.to_owned(),
    })
}

/// `t=<start-time> <stop-time>` (RFC 8866 §5.9).
fn parse_timing(value: &str, line: usize) -> Result<Timing, SdpError> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let times = match fields[..] {
        [start, stop] => start.parse::<u64>().ok().zip(stop.parse::<u64>().ok()),
        _ => None,
    };
    let (start, stop) = times.ok_or_else(|| malformed(line, "t= needs two numeric times"))?;
    Ok(Timing {
        start,
        stop,
        repeats: Vec::new(),
    })
}

/// `m=<media> <port>[/<number>] <proto> <fmt> ...` (RFC 8866 §5.14).
fn parse_media_line(value: &str, line: usize) -> Result<MediaDescription, SdpError> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [media, port_field, proto, formats @ ..] = &fields[..] else {
        return Err(malformed(line, "m= needs media, port, proto and formats"));
    };
    if formats.is_empty() {
        return Err(malformed(line, "m= needs at least one format"));
    }
    let (port, port_count) = match port_field.split_once('/') {
        Some((port, count)) => (port, Some(count)),
        None => (*port_field, None),
    };
    let port = port
        .parse::<u16>()
        .map_err(|_| malformed(line, "m= port must be a number from 0 to 65535"))?;
    let port_count = port_count
        .map(str::parse::<u16>)
        .transpose()
        .map_err(|_| malformed(line, "m= port count must be a number"))?;
    Ok(MediaDescription {
        media: (*media).to_owned(),
        port,
        port_count,
        proto: (*proto).to_owned(),
        formats: formats.iter().map(|f| (*f).to_owned()).collect(),
        connection: None,
        path: Vec::new(),
        accept_types: Vec::new(),
        accept_wrapped_types: Vec::new(),
        max_size: None,
        setup: None,
        direction: None,
        other_lines: Vec::new(),
    })
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}
