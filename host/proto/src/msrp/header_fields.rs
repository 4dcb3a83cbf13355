//! Header field lines: `Name: value` (RFC 4975 §9), collected into typed fields.

use super::byte_range::ByteRange;
use super::error::{MsrpError, excerpt};
use super::frame::FailureReport;
use super::grammar;
use super::status::Status;
use super::uri::MsrpUri;

/// Header fields of one frame, collected as their lines are read.
#[derive(Debug, Default)]
pub(crate) struct HeaderFields {
    pub(crate) to_path: Option<Vec<MsrpUri>>,
    pub(crate) from_path: Option<Vec<MsrpUri>>,
    pub(crate) message_id: Option<String>,
    pub(crate) byte_range: Option<ByteRange>,
    pub(crate) content_type: Option<String>,
    pub(crate) success_report: Option<bool>,
    pub(crate) failure_report: Option<FailureReport>,
    pub(crate) status: Option<Status>,
    pub(crate) other: Vec<(String, String)>,
}

/// The header fields this module understands.
#[derive(Debug, Clone, Copy)]
enum Known {
    ToPath,
    FromPath,
    MessageId,
    ByteRange,
    ContentType,
    SuccessReport,
    FailureReport,
    Status,
}

impl Known {
    const ALL: [(Known, &'static str); 8] = [
        (Known::ToPath, "To-Path"),
        (Known::FromPath, "From-Path"),
        (Known::MessageId, "Message-ID"),
        (Known::ByteRange, "Byte-Range"),
        (Known::ContentType, "Content-Type"),
        (Known::SuccessReport, "Success-Report"),
        (Known::FailureReport, "Failure-Report"),
        (Known::Status, "Status"),
    ];

    /// Header names are case-insensitive, like every quoted string in ABNF (RFC 5234 §2.3).
    fn lookup(name: &str) -> Option<(Known, &'static str)> {
        Self::ALL
            .into_iter()
            .find(|(_, canonical)| canonical.eq_ignore_ascii_case(name))
    }

    /// Only the two paths have a meaning in responses (RFC 4975 §7.2).
    fn applies_to_responses(self) -> bool {
        matches!(self, Known::ToPath | Known::FromPath)
    }
}

impl HeaderFields {
    /// Reads one header line (without CRLF) into the fields.
    pub(crate) fn add_line(&mut self, line: &[u8], is_request: bool) -> Result<(), MsrpError> {
        let bad_line = |reason| MsrpError::BadHeaderLine {
            line: excerpt(line),
            reason,
        };
        let text = std::str::from_utf8(line).map_err(|_| MsrpError::NotUtf8("header line"))?;
        let (name, value) = text.split_once(':').ok_or(bad_line("no colon"))?;
        if !grammar::is_header_name(name) {
            return Err(bad_line("invalid header name"));
        }
        // RFC 4975 §9 puts exactly one SP after the colon; accept any amount of
        // leading whitespace, as peers differ.
        let value = value.trim_start_matches([' ', '\t']);
        if !grammar::is_utf8text(value) {
            return Err(bad_line("control character in value"));
        }
        match Known::lookup(name) {
            Some((known, canonical)) if is_request || known.applies_to_responses() => {
                self.add_known(known, canonical, value)
            }
            _ => {
                self.other.push((name.to_owned(), value.to_owned()));
                Ok(())
            }
        }
    }

    fn add_known(
        &mut self,
        known: Known,
        name: &'static str,
        value: &str,
    ) -> Result<(), MsrpError> {
        let bad_value = |reason| MsrpError::BadHeaderValue {
            name,
            value: excerpt(value.as_bytes()),
            reason,
        };
        match known {
            Known::ToPath => set_once(&mut self.to_path, parse_path(value, name)?, name),
            Known::FromPath => set_once(&mut self.from_path, parse_path(value, name)?, name),
            Known::MessageId => {
                // Message-ID = "Message-ID:" SP ident (RFC 4975 §9)
                if !grammar::is_ident(value) {
                    return Err(bad_value("not an ident of 4 to 32 characters"));
                }
                set_once(&mut self.message_id, value.to_owned(), name)
            }
            Known::ByteRange => set_once(&mut self.byte_range, value.parse()?, name),
            Known::ContentType => {
                // media-type = type "/" subtype *(";" gen-param) (RFC 4975 §9)
                let shaped = value
                    .split_once('/')
                    .is_some_and(|(t, s)| grammar::is_token(t) && !s.is_empty());
                if !shaped {
                    return Err(bad_value("expected type/subtype"));
                }
                set_once(&mut self.content_type, value.to_owned(), name)
            }
            Known::SuccessReport => {
                let yes = if value.eq_ignore_ascii_case("yes") {
                    true
                } else if value.eq_ignore_ascii_case("no") {
                    false
                } else {
                    return Err(bad_value("expected yes or no"));
                };
                set_once(&mut self.success_report, yes, name)
            }
            Known::FailureReport => {
                let report = [
                    FailureReport::Yes,
                    FailureReport::No,
                    FailureReport::Partial,
                ]
                .into_iter()
                .find(|r| r.as_str().eq_ignore_ascii_case(value))
                .ok_or(bad_value("expected yes, no or partial"))?;
                set_once(&mut self.failure_report, report, name)
            }
            Known::Status => set_once(&mut self.status, value.parse()?, name),
        }
    }
}

/// `MSRP-URI *( SP MSRP-URI )` (RFC 4975 §9).
fn parse_path(value: &str, name: &'static str) -> Result<Vec<MsrpUri>, MsrpError> {
    let uris = value
        .split_ascii_whitespace()
        .map(str::parse)
        .collect::<Result<Vec<MsrpUri>, _>>()?;
    if uris.is_empty() {
        return Err(MsrpError::BadHeaderValue {
            name,
            value: String::new(),
            reason: "a path needs at least one URI",
        });
    }
    Ok(uris)
}

fn set_once<T>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), MsrpError> {
    if slot.is_some() {
        return Err(MsrpError::DuplicateHeader(name));
    }
    *slot = Some(value);
    Ok(())
}
