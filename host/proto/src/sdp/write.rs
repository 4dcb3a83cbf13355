//! Writing a session description (RFC 8866 §5) with CRLF line ends.

use std::fmt::Write as _;

use super::SdpError;
use super::model::{
    Connection, Direction, MEDIA_RANK_BEFORE_ATTRIBUTES, MEDIA_RANK_BEFORE_CONNECTION,
    MediaDescription, SESSION_RANK_BEFORE_ATTRIBUTES, SESSION_RANK_BEFORE_CONNECTION,
    SESSION_RANK_BEFORE_TIMING, SdpLine, SessionDescription, media_line_rank, session_line_rank,
};

/// Appends the wire form of `description` to `out`, lines in RFC 8866 §5
/// order, each ending in CRLF.
///
/// Security rule: no value may create a new line, so every field is
/// checked first and one holding CR, LF or another control character is
/// **refused**; fields that are single tokens must also be free of
/// whitespace. Kept lines must be of a kind allowed at their level, in
/// RFC 8866 order, and must not duplicate a typed field. This guarantees
/// that [`super::parse()`] reads back the same description. On error `out`
/// is left untouched.
pub fn write(description: &SessionDescription, out: &mut Vec<u8>) -> Result<(), SdpError> {
    check_session(description)?;
    let mut text = String::new();
    write_session(description, &mut text);
    for media in &description.media {
        write_media(media, &mut text);
    }
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn write_session(description: &SessionDescription, text: &mut String) {
    let origin = &description.origin;
    line(text, 'v', "0");
    line(
        text,
        'o',
        &format!(
            "{} {} {} {} {} {}",
            origin.username,
            origin.session_id,
            origin.session_version,
            origin.net_type,
            origin.addr_type,
            origin.address
        ),
    );
    line(text, 's', &description.session_name);
    let ranked = |range: std::ops::RangeInclusive<u8>| {
        description
            .other_lines
            .iter()
            .filter(move |l| session_line_rank(l.kind).is_some_and(|r| range.contains(&r)))
    };
    kept(text, ranked(0..=SESSION_RANK_BEFORE_CONNECTION));
    connection(text, description.connection.as_ref());
    kept(
        text,
        ranked(SESSION_RANK_BEFORE_CONNECTION + 1..=SESSION_RANK_BEFORE_TIMING),
    );
    for timing in &description.timing {
        line(text, 't', &format!("{} {}", timing.start, timing.stop));
        for repeat in &timing.repeats {
            line(text, 'r', repeat);
        }
    }
    kept(
        text,
        ranked(SESSION_RANK_BEFORE_TIMING + 1..=SESSION_RANK_BEFORE_ATTRIBUTES),
    );
    if let Some(setup) = description.setup {
        line(text, 'a', &format!("setup:{}", setup.as_str()));
    }
    if let Some(direction) = description.direction {
        line(text, 'a', direction.as_str());
    }
    kept(text, ranked(SESSION_RANK_BEFORE_ATTRIBUTES + 1..=u8::MAX));
}

fn write_media(media: &MediaDescription, text: &mut String) {
    let port = match media.port_count {
        Some(count) => format!("{}/{count}", media.port),
        None => media.port.to_string(),
    };
    line(
        text,
        'm',
        &format!(
            "{} {port} {} {}",
            media.media,
            media.proto,
            media.formats.join(" ")
        ),
    );
    let ranked = |range: std::ops::RangeInclusive<u8>| {
        media
            .other_lines
            .iter()
            .filter(move |l| media_line_rank(l.kind).is_some_and(|r| range.contains(&r)))
    };
    kept(text, ranked(0..=MEDIA_RANK_BEFORE_CONNECTION));
    connection(text, media.connection.as_ref());
    kept(
        text,
        ranked(MEDIA_RANK_BEFORE_CONNECTION + 1..=MEDIA_RANK_BEFORE_ATTRIBUTES),
    );
    // The order of the RFC 4975 §8.7 example: accept-types before path.
    list(text, "accept-types", &media.accept_types);
    list(text, "accept-wrapped-types", &media.accept_wrapped_types);
    if let Some(size) = media.max_size {
        line(text, 'a', &format!("max-size:{size}"));
    }
    list(text, "path", &media.path);
    if let Some(setup) = media.setup {
        line(text, 'a', &format!("setup:{}", setup.as_str()));
    }
    if let Some(direction) = media.direction {
        line(text, 'a', direction.as_str());
    }
    kept(text, ranked(MEDIA_RANK_BEFORE_ATTRIBUTES + 1..=u8::MAX));
}

fn line(text: &mut String, kind: char, value: &str) {
    // Writing to a String cannot fail.
    let _ = write!(text, "{kind}={value}\r\n");
}

fn kept<'a>(text: &mut String, lines: impl Iterator<Item = &'a SdpLine>) {
    for kept_line in lines {
        line(text, kept_line.kind, &kept_line.value);
    }
}

fn connection(text: &mut String, connection: Option<&Connection>) {
    if let Some(c) = connection {
        line(
            text,
            'c',
            &format!("{} {} {}", c.net_type, c.addr_type, c.address),
        );
    }
}

fn list(text: &mut String, name: &str, items: &[String]) {
    if !items.is_empty() {
        line(text, 'a', &format!("{name}:{}", items.join(" ")));
    }
}

// ---------------------------------------------------------------- checks

fn invalid(field: &'static str, reason: &'static str) -> SdpError {
    SdpError::InvalidValue { field, reason }
}

/// A field that is one SDP token: non-empty, no whitespace or controls.
fn check_token(field: &'static str, value: &str) -> Result<(), SdpError> {
    if value.is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if value.contains(['\r', '\n']) {
        return Err(invalid(field, "contains CR or LF"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(field, "contains whitespace or a control character"));
    }
    Ok(())
}

/// Free text (`s=`, kept lines): anything but a line break or control.
fn check_text(field: &'static str, value: &str) -> Result<(), SdpError> {
    if value.contains(['\r', '\n']) {
        return Err(invalid(field, "contains CR or LF"));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(invalid(field, "contains a control character"));
    }
    Ok(())
}

fn check_digits(field: &'static str, value: &str) -> Result<(), SdpError> {
    check_token(field, value)?;
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(field, "must be numeric"));
    }
    Ok(())
}

fn check_session(description: &SessionDescription) -> Result<(), SdpError> {
    let origin = &description.origin;
    check_token("o= username", &origin.username)?;
    check_digits("o= session id", &origin.session_id)?;
    check_digits("o= session version", &origin.session_version)?;
    check_token("o= nettype", &origin.net_type)?;
    check_token("o= addrtype", &origin.addr_type)?;
    check_token("o= address", &origin.address)?;
    check_text("s=", &description.session_name)?;
    if let Some(c) = &description.connection {
        check_connection(c)?;
    }
    if description.timing.is_empty() {
        return Err(invalid("t=", "at least one t= line is required"));
    }
    for timing in &description.timing {
        for repeat in &timing.repeats {
            check_text("r=", repeat)?;
        }
    }
    let typed_session_attribute = |name: &str| name == "setup" || Direction::parse(name).is_some();
    check_kept(
        &description.other_lines,
        session_line_rank,
        typed_session_attribute,
    )?;
    for media in &description.media {
        check_media(media)?;
    }
    Ok(())
}

fn check_media(media: &MediaDescription) -> Result<(), SdpError> {
    check_token("m= media", &media.media)?;
    check_token("m= proto", &media.proto)?;
    if media.formats.is_empty() {
        return Err(invalid("m= formats", "at least one format is required"));
    }
    for format in &media.formats {
        check_token("m= format", format)?;
    }
    if let Some(c) = &media.connection {
        check_connection(c)?;
    }
    for item in &media.path {
        check_token("a=path", item)?;
    }
    for item in &media.accept_types {
        check_token("a=accept-types", item)?;
    }
    for item in &media.accept_wrapped_types {
        check_token("a=accept-wrapped-types", item)?;
    }
    let typed_media_attribute = |name: &str| {
        matches!(
            name,
            "path" | "accept-types" | "accept-wrapped-types" | "max-size" | "setup"
        ) || Direction::parse(name).is_some()
    };
    check_kept(&media.other_lines, media_line_rank, typed_media_attribute)
}

fn check_connection(connection: &Connection) -> Result<(), SdpError> {
    check_token("c= nettype", &connection.net_type)?;
    check_token("c= addrtype", &connection.addr_type)?;
    check_token("c= address", &connection.address)
}

fn check_kept(
    lines: &[SdpLine],
    rank_of: fn(char) -> Option<u8>,
    is_typed_attribute: impl Fn(&str) -> bool,
) -> Result<(), SdpError> {
    let mut previous_rank = 0;
    for kept_line in lines {
        let rank = rank_of(kept_line.kind).ok_or(invalid(
            "kept line",
            "this line type is not allowed here or has a typed field",
        ))?;
        if rank < previous_rank {
            return Err(invalid("kept line", "kept lines are not in RFC 8866 order"));
        }
        previous_rank = rank;
        check_text("kept line", &kept_line.value)?;
        if kept_line.kind == 'a' {
            let name = kept_line
                .value
                .split(':')
                .next()
                .unwrap_or_default()
                .trim_end();
            if is_typed_attribute(name) {
                return Err(invalid("kept line", "this attribute has a typed field"));
            }
        }
    }
    Ok(())
}
