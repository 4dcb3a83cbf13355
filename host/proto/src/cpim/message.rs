//! The `message/cpim` body (RFC 3862 §2) and its typed accessors.

use super::CpimHeader;
use super::namespace::{CPIM_HEADERS_URN, namespaces};
use super::value::parse_address;
use crate::dates::{Timestamp, parse_rfc3339};

/// A display name (if any) and a URI, as in `"Alice" <im:alice@example.com>`.
pub type Address = (Option<String>, String);

/// A `message/cpim` body: message headers, the encapsulated MIME object's
/// content headers, and its body bytes (RFC 3862 §2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpimMessage {
    /// Message headers in wire order (RFC 3862 §3).
    pub headers: Vec<CpimHeader>,
    /// MIME headers of the encapsulated object, `(name, value)` in wire
    /// order; folded lines are already unfolded.
    pub content_headers: Vec<(String, String)>,
    /// The encapsulated object's body, byte for byte.
    pub body: Vec<u8>,
}

impl CpimMessage {
    /// An empty message, to be filled with [`push_header`](Self::push_header)
    /// and [`set_content`](Self::set_content).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a message header. Nothing is checked here; [`super::write()`]
    /// checks every header and refuses unsafe ones.
    pub fn push_header(&mut self, header: CpimHeader) -> &mut Self {
        self.headers.push(header);
        self
    }

    /// Appends a content header such as `Content-Disposition`.
    pub fn push_content_header(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> &mut Self {
        self.content_headers.push((name.into(), value.into()));
        self
    }

    /// Sets (or replaces) `Content-Type` and the body.
    pub fn set_content(
        &mut self,
        content_type: impl Into<String>,
        body: impl Into<Vec<u8>>,
    ) -> &mut Self {
        let content_type = content_type.into();
        match self
            .content_headers
            .iter_mut()
            .find(|(name, _)| name.eq_ignore_ascii_case("Content-Type"))
        {
            Some((_, value)) => *value = content_type,
            None => self
                .content_headers
                .insert(0, ("Content-Type".to_owned(), content_type)),
        }
        self.body = body.into();
        self
    }

    /// The namespace URN of `headers[index]` (see [`Self::get_ns`]).
    pub fn namespace_of(&self, index: usize) -> Option<&str> {
        namespaces(&self.headers).get(index).copied().flatten()
    }

    /// The first header called `name` (ASCII case-insensitive) whose
    /// namespace is `urn`, whatever prefix the sender bound to it.
    pub fn get_ns(&self, urn: &str, name: &str) -> Option<&CpimHeader> {
        self.get_all_ns(urn, name).into_iter().next()
    }

    /// Every header called `name` in namespace `urn`, in wire order.
    pub fn get_all_ns(&self, urn: &str, name: &str) -> Vec<&CpimHeader> {
        self.headers
            .iter()
            .zip(namespaces(&self.headers))
            .filter(|(header, namespace)| {
                header.name.eq_ignore_ascii_case(name)
                    && namespace.is_some_and(|ns| ns.eq_ignore_ascii_case(urn))
            })
            .map(|(header, _)| header)
            .collect()
    }

    /// A standard RFC 3862 header (default namespace) by name.
    pub fn get(&self, name: &str) -> Option<&CpimHeader> {
        self.get_ns(CPIM_HEADERS_URN, name)
    }

    /// `From` (RFC 3862 §4.1) as display name and URI.
    pub fn from(&self) -> Option<Address> {
        parse_address(&self.get("From")?.value).ok()
    }

    /// Every `To` (RFC 3862 §4.2) as display name and URI.
    pub fn to(&self) -> Vec<Address> {
        self.addresses("To")
    }

    /// Every `cc` (RFC 3862 §4.3) as display name and URI.
    pub fn cc(&self) -> Vec<Address> {
        self.addresses("cc")
    }

    fn addresses(&self, name: &str) -> Vec<Address> {
        self.get_all_ns(CPIM_HEADERS_URN, name)
            .into_iter()
            .filter_map(|header| parse_address(&header.value).ok())
            .collect()
    }

    /// `DateTime` (RFC 3862 §4.4).
    pub fn date_time(&self) -> Option<Timestamp> {
        parse_rfc3339(&self.get("DateTime")?.value).ok()
    }

    /// The first `Subject` (RFC 3862 §4.5) whatever its `lang`, with
    /// escapes decoded.
    pub fn subject(&self) -> Option<String> {
        Some(self.get("Subject")?.decoded_value())
    }

    /// The first content header called `name` (ASCII case-insensitive),
    /// without surrounding whitespace.
    pub fn content_header(&self, name: &str) -> Option<&str> {
        self.content_headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim_matches([' ', '\t']))
    }

    /// `Content-Type` of the encapsulated object.
    pub fn content_type(&self) -> Option<&str> {
        self.content_header("Content-Type")
    }
}
