//! Small things every plugin needs: refusals, headers, media types.

use crate::types::{ErrorKind, Header, PluginError};

impl PluginError {
    /// A refusal of this kind with a reason a person can read.
    pub fn new(kind: ErrorKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }

    /// The address or identity is unknown (SIP 404, SMTP 550 5.1.1).
    pub fn not_found(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, reason)
    }

    /// The input is malformed (SIP 400, SMTP 553 5.1.3 / 554 5.6.0).
    pub fn invalid(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, reason)
    }

    /// Cannot be decided now; the sender should retry (SIP 480, SMTP 451).
    pub fn temporary(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Temporary, reason)
    }

    /// Will never be accepted (SIP 403, SMTP 550 5.7.1).
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permanent, reason)
    }
}

impl Header {
    /// A header field.
    pub fn new(name: &str, value: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            value: value.into(),
        }
    }
}

/// The value of the first header field called `name` (case-insensitive).
pub fn find_header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The media type of a `Content-Type` value, lower case, without
/// parameters: `Text/Plain; charset=utf-8` → `text/plain`.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}
