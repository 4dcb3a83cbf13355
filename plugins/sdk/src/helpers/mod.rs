//! Small things every plugin needs: refusals, headers, media types,
//! addresses.

mod address;
pub use address::{EmailAddress, ImUri, UriScheme, percent_decode, sip_uri};

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

/// Whether a `Content-Type` value is of this media type, ignoring case and
/// parameters: `media_type_is("Text/Plain; charset=utf-8", "text/plain")`.
pub fn media_type_is(content_type: &str, media: &str) -> bool {
    media_type(content_type).eq_ignore_ascii_case(media)
}

/// A parameter of a `Content-Type` value (RFC 2045 §5.1), unquoted:
/// `parameter("text/plain; charset=\"utf-8\"", "charset")` is `utf-8`.
pub fn parameter(content_type: &str, name: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_and_parameters() {
        assert_eq!(media_type("Text/Plain; charset=utf-8"), "text/plain");
        assert!(media_type_is("TEXT/html", "text/html"));
        assert_eq!(
            parameter("text/plain; Charset=\"ISO-8859-1\"", "charset").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(parameter("text/plain", "charset"), None);
    }

    #[test]
    fn im_uris() {
        let uri = ImUri::parse("<sip:Alice%20B@IM.Example.Test:5061;transport=tcp>").unwrap();
        assert_eq!(
            uri,
            ImUri::Sip {
                scheme: UriScheme::Sip,
                user: "Alice B".into(),
                host: "im.example.test".into(),
                user_is_phone: false,
            }
        );
        assert_eq!(
            ImUri::parse("tel:+15551234567;phone-context=x").unwrap(),
            ImUri::Tel("+15551234567".into())
        );
        let ImUri::Mailto(mail) = ImUri::parse("mailto:bob@Mail.Example.Org?subject=hi").unwrap()
        else {
            panic!("not mailto");
        };
        assert_eq!(mail.to_string(), "bob@mail.example.org");
        assert!(ImUri::parse("http://example.org/").is_err());
        assert!(ImUri::parse("sip:@host").is_err());
    }

    #[test]
    fn email_addresses() {
        let mail = EmailAddress::parse("<John.Smith@Corp.Example.Test>").unwrap();
        assert_eq!(
            (mail.local.as_str(), mail.domain.as_str()),
            ("John.Smith", "corp.example.test")
        );
        assert_eq!(mail.to_sip_uri(), "sip:John.Smith@corp.example.test");
        assert!(EmailAddress::parse("no-at-sign").is_err());
        assert!(EmailAddress::parse("a..b@example.org").is_err());
        assert!(EmailAddress::parse("a@-bad-.org").is_err());
    }

    #[test]
    fn refusals_say_their_kind() {
        assert_eq!(PluginError::not_found("x").kind, ErrorKind::NotFound);
        assert_eq!(PluginError::temporary("x").kind, ErrorKind::Temporary);
    }
}
