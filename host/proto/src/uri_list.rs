//! Multiple-recipient MESSAGE requests (RFC 5365): a MESSAGE whose body is
//! `multipart/mixed` holding the message and a URI list
//! (`application/resource-lists+xml`, RFC 4826, with `Content-Disposition:
//! recipient-list`) whose entries say how each recipient is addressed
//! (`copyControl` to / cc / bcc, RFC 5364). The gateway is the URI-list
//! server for its mail users: one mail to all of them.
//!
//! Sans-IO: [`parse`] takes the request's `Content-Type` and body.

use crate::imdn::xml_tree::{self, XmlElement};
use crate::mime::media_type;
use crate::mime::multipart::{self, RawPart};

/// The resource-lists namespace (RFC 4826 §3.4.1).
pub const RESOURCE_LISTS_NS: &str = "urn:ietf:params:xml:ns:resource-lists";
/// The copy-control namespace (RFC 5364 §4).
pub const COPY_CONTROL_NS: &str = "urn:ietf:params:xml:ns:copycontrol";
/// The option tag a multiple-recipient MESSAGE requires (RFC 5365 §7).
pub const OPTION_TAG: &str = "recipient-list-message";
/// Most recipients one request may name: a list is expanded into one
/// mail, and more than this is a mailing list, not a group IM.
pub const MAX_RECIPIENTS: usize = 100;

/// How a recipient is addressed (RFC 5364 §4, `copyControl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copy {
    /// A primary recipient (the default).
    To,
    /// A copied recipient.
    Cc,
    /// A blind-copied recipient: named in no header.
    Bcc,
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The recipient's URI as the list gives it.
    pub uri: String,
    /// How it is addressed.
    pub copy: Copy,
}

/// A multiple-recipient MESSAGE, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientList {
    /// The recipients, in list order.
    pub recipients: Vec<Recipient>,
    /// `Content-Type` of the message part.
    pub content_type: String,
    /// The message part's body.
    pub body: Vec<u8>,
}

/// Why a body is not a multiple-recipient MESSAGE the gateway takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriListError {
    /// The body is not `multipart/mixed` with a boundary (RFC 2046 §5.1.1).
    #[error("not multipart/mixed with a boundary")]
    NotMultipart,
    /// The multipart body is malformed.
    #[error("malformed multipart body: {0}")]
    Multipart(&'static str),
    /// It has no URI list, or no message part, or more than one of either.
    #[error("{0}")]
    Parts(&'static str),
    /// The URI list cannot be read.
    #[error("bad URI list: {0}")]
    List(String),
    /// More recipients than [`MAX_RECIPIENTS`].
    #[error("{0} recipients; at most {MAX_RECIPIENTS} are taken")]
    TooMany(usize),
}

/// One part of a multipart body: its header fields and body.
struct Part<'a> {
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

impl Part<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

fn part(raw: RawPart<'_>) -> Result<Part<'_>, UriListError> {
    let RawPart { head, body } = raw;
    let head =
        std::str::from_utf8(head).map_err(|_| UriListError::Multipart("headers not UTF-8"))?;
    let mut headers = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            return Err(UriListError::Multipart("folded part headers are not taken"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(UriListError::Multipart("a part header has no colon"))?;
        headers.push((name.trim(), value.trim()));
    }
    Ok(Part { headers, body })
}

/// Reads a multiple-recipient MESSAGE's body (RFC 5365 §4.1).
pub fn parse(content_type: &str, body: &[u8]) -> Result<RecipientList, UriListError> {
    if media_type(content_type) != "multipart/mixed" {
        return Err(UriListError::NotMultipart);
    }
    let boundary = multipart::boundary(content_type).ok_or(UriListError::NotMultipart)?;
    let parts = multipart::split(body, boundary)
        .map_err(|e| UriListError::Multipart(e.0))?
        .into_iter()
        .map(part)
        .collect::<Result<Vec<_>, _>>()?;
    let is_list = |p: &Part<'_>| {
        p.header("Content-Disposition")
            .is_some_and(|d| media_type(d) == "recipient-list")
    };
    let mut lists = parts.iter().filter(|p| is_list(p));
    let list = lists.next().ok_or(UriListError::Parts(
        "no URI list (Content-Disposition: recipient-list)",
    ))?;
    if lists.next().is_some() {
        return Err(UriListError::Parts("more than one URI list"));
    }
    if list.header("Content-Type").map(media_type).as_deref()
        != Some("application/resource-lists+xml")
    {
        return Err(UriListError::Parts(
            "the URI list is not application/resource-lists+xml",
        ));
    }
    let mut messages = parts.iter().filter(|p| !is_list(p));
    let message = messages
        .next()
        .ok_or(UriListError::Parts("no message part"))?;
    if messages.next().is_some() {
        return Err(UriListError::Parts("more than one message part"));
    }
    let content_type = message
        .header("Content-Type")
        .ok_or(UriListError::Parts("the message part has no Content-Type"))?;
    Ok(RecipientList {
        recipients: recipients(list.body)?,
        content_type: content_type.to_string(),
        body: message.body.to_vec(),
    })
}

/// The entries of a resource list (RFC 4826 §3.4): `<entry uri=…>` in
/// `<list>`s, with their `copyControl`. References to other lists
/// (`entry-ref`, `external`) are not followed.
fn recipients(xml: &[u8]) -> Result<Vec<Recipient>, UriListError> {
    let root = xml_tree::parse_document(xml).map_err(|e| UriListError::List(e.to_string()))?;
    let ours = |e: &XmlElement, name: &str| {
        e.namespace.as_deref() == Some(RESOURCE_LISTS_NS) && e.local_name == name
    };
    if !ours(&root, "resource-lists") {
        return Err(UriListError::List("the root is not resource-lists".into()));
    }
    let mut out = Vec::new();
    let mut lists: Vec<&XmlElement> = root.children.iter().filter(|c| ours(c, "list")).collect();
    while let Some(list) = lists.pop() {
        for child in &list.children {
            if ours(child, "list") {
                lists.push(child);
            } else if ours(child, "entry") {
                let uri = child
                    .attribute(None, "uri")
                    .ok_or_else(|| UriListError::List("an entry has no uri".into()))?;
                let copy = match child.attribute(Some(COPY_CONTROL_NS), "copyControl") {
                    None | Some("to") => Copy::To,
                    Some("cc") => Copy::Cc,
                    Some("bcc") => Copy::Bcc,
                    Some(other) => {
                        return Err(UriListError::List(format!("copyControl {other:?}")));
                    }
                };
                out.push(Recipient {
                    uri: uri.to_string(),
                    copy,
                });
                if out.len() > MAX_RECIPIENTS {
                    return Err(UriListError::TooMany(out.len()));
                }
            } else if ours(child, "entry-ref") || ours(child, "external") {
                return Err(UriListError::List(format!(
                    "<{}> references are not followed",
                    child.local_name
                )));
            }
        }
    }
    if out.is_empty() {
        return Err(UriListError::List("the list has no entry".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5365 §4.1's example, with RFC 5364's copy control.
    const BODY: &[u8] = b"--boundary1\r\n\
Content-Type: text/plain\r\n\
\r\n\
Hello World!\r\n\
--boundary1\r\n\
Content-Type: application/resource-lists+xml\r\n\
Content-Disposition: recipient-list\r\n\
\r\n\
<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"\r\n\
 xmlns:cp=\"urn:ietf:params:xml:ns:copycontrol\">\r\n\
  <list>\r\n\
    <entry uri=\"sip:bill@example.com\" cp:copyControl=\"to\" />\r\n\
    <entry uri=\"sip:randy@example.net\" cp:copyControl=\"cc\"/>\r\n\
    <entry uri=\"sip:joe@example.org\" cp:copyControl=\"bcc\"/>\r\n\
    <entry uri=\"sip:ted@example.org\"/>\r\n\
  </list>\r\n\
</resource-lists>\r\n\
--boundary1--\r\n";

    #[test]
    fn reads_the_rfc_5365_example() {
        let list = parse("multipart/mixed;boundary=\"boundary1\"", BODY).unwrap();
        assert_eq!(list.content_type, "text/plain");
        assert_eq!(list.body, b"Hello World!");
        let got: Vec<(&str, Copy)> = list
            .recipients
            .iter()
            .map(|r| (r.uri.as_str(), r.copy))
            .collect();
        assert_eq!(
            got,
            [
                ("sip:bill@example.com", Copy::To),
                ("sip:randy@example.net", Copy::Cc),
                ("sip:joe@example.org", Copy::Bcc),
                ("sip:ted@example.org", Copy::To),
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_a_recipient_list() {
        let err = |ct: &str, body: &[u8]| parse(ct, body).unwrap_err();
        assert_eq!(err("text/plain", BODY), UriListError::NotMultipart);
        assert_eq!(err("multipart/mixed", BODY), UriListError::NotMultipart);
        assert!(matches!(
            err(
                "multipart/mixed;boundary=boundary1",
                &BODY[..BODY.len() - 16]
            ),
            UriListError::Multipart(_)
        ));
        let no_list = b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n";
        // Found by fuzzing: a delimiter line right before the next one.
        assert!(parse("multipart/mixed;boundary=b", b"--b\r\n--b\r\n--b--\r\n").is_err());
        assert!(matches!(
            err("multipart/mixed;boundary=b", no_list),
            UriListError::Parts(_)
        ));
        let text = String::from_utf8_lossy(BODY).replace(
            "<entry uri=\"sip:ted@example.org\"/>",
            "<entry-ref ref=\"x\"/>",
        );
        assert!(matches!(
            err("multipart/mixed;boundary=boundary1", text.as_bytes()),
            UriListError::List(_)
        ));
        let entries: String = (0..=MAX_RECIPIENTS)
            .map(|i| format!("<entry uri=\"sip:u{i}@example.org\"/>"))
            .collect();
        let text =
            String::from_utf8_lossy(BODY).replace("<entry uri=\"sip:ted@example.org\"/>", &entries);
        assert!(matches!(
            err("multipart/mixed;boundary=boundary1", text.as_bytes()),
            UriListError::TooMany(_)
        ));
    }
}
