//! RCS file transfer via HTTP (GSMA RCC.07 §3.2.5, "FT-HTTP"): the sender
//! uploads the file to the operator's content server and sends its
//! recipient, in a MESSAGE or over MSRP, only a small XML document of type
//! [`CONTENT_TYPE`] that says where to download it, until when, and what
//! it is. The recipient (here: the gateway, to attach the file to a mail)
//! fetches it with an HTTP GET.
//!
//! ```xml
//! <file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp">
//!   <file-info type="thumbnail">…</file-info>          <!-- optional -->
//!   <file-info type="file" file-disposition="render">
//!     <file-size>183524</file-size>
//!     <file-name>IMG_0001.jpg</file-name>              <!-- optional -->
//!     <content-type>image/jpeg</content-type>
//!     <data url="https://…" until="2017-04-25T12:17:07Z"/>
//!   </file-info>
//! </file>
//! ```
//!
//! Sans-IO: [`parse`] takes the body and returns a [`FileTransfer`]. The
//! document is read with the IMDN module's element tree (namespaces
//! resolved by URI, never by prefix; no DOCTYPE, no entities beyond the
//! predefined ones, no CDATA, UTF-8 only, bounded depth and attributes),
//! then held to the RCC.07 §3.2.5 schema:
//!
//! * the root is `file` in [`NAMESPACE`];
//! * it holds exactly one `file-info type="file"` and at most one
//!   `file-info type="thumbnail"` (the schema's `maxOccurs="2"`);
//! * a `file-info` has one `file-size` (a non-negative integer), one
//!   `content-type`, one `data` with a `url`, and optionally one
//!   `file-name`, a `data@until` (an `xs:dateTime`, RFC 3339 here) and a
//!   `file-disposition` attribute (`render` or `attachment`);
//! * an audio message (RCC.07 §3.2.5 with the audio-messaging extension)
//!   adds `am:playing-length` in [`AUDIO_MESSAGE_NAMESPACE`], in seconds;
//! * `branded-url` (a link for clients without FT-HTTP, in the FT-HTTP
//!   namespace or in the Universal Profile extension namespace
//!   [`EXTENSION_NAMESPACE`]) is known and not kept: the gateway fetches
//!   `data@url` itself;
//! * elements in any other namespace are ignored (the schema's
//!   `<xs:any namespace="##other" processContents="lax"/>`); an unknown
//!   element in the FT-HTTP namespace itself is an error.
//!
//! Text values are trimmed of XML white space (`xs:integer`, `xs:anyURI`
//! and `xs:dateTime` collapse it) and must hold no control character:
//! the name and type end up in mail headers.

use thiserror::Error;

use crate::dates::{Timestamp, parse_rfc3339};
use crate::imdn::ImdnError;
use crate::imdn::xml_tree::{self, XmlElement};

/// The media type of the FT-HTTP document (RCC.07 §3.2.5).
pub const CONTENT_TYPE: &str = "application/vnd.gsma.rcs-ft-http+xml";

/// The FT-HTTP namespace: `file`, `file-info` and their children.
pub const NAMESPACE: &str = "urn:gsma:params:xml:ns:rcs:rcs:fthttp";

/// The audio-messaging namespace of `playing-length`.
pub const AUDIO_MESSAGE_NAMESPACE: &str = "urn:gsma:params:xml:ns:rcs:rcs:rram";

/// The Universal Profile extension namespace (`branded-url`, `file-hash`).
pub const EXTENSION_NAMESPACE: &str = "urn:gsma:params:xml:ns:rcs:rcs:up:fthttpext";

/// One FT-HTTP document: the file, and the thumbnail that may come with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTransfer {
    /// The `file-info type="file"`.
    pub file: FileInfo,
    /// The `file-info type="thumbnail"`, when there is one.
    pub thumbnail: Option<FileInfo>,
}

/// One `file-info` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// `file-size`, in bytes, as the sender declares it.
    pub size: u64,
    /// `file-name`, the name the sender gave the file.
    pub name: Option<String>,
    /// `content-type`, as written (parameters included, e.g.
    /// `audio/amr;voice-recording=yes`).
    pub content_type: String,
    /// `data@url`, where the content server serves the file.
    pub url: String,
    /// `data@until`, when the content server may delete it.
    pub until: Option<Timestamp>,
    /// The `file-disposition` attribute.
    pub disposition: Option<Disposition>,
    /// `am:playing-length` of an audio message, in seconds.
    pub playing_length_secs: Option<u32>,
}

/// How the sender wants the file shown (the `file-disposition` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// `render`: shown inline in the conversation (an image, an audio
    /// message).
    Render,
    /// `attachment`: offered as a file to save.
    Attachment,
}

/// Why a body is not an FT-HTTP document the gateway takes.
///
/// Text that came from the peer is shown with `{:?}` so that control
/// characters in it cannot forge log lines.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FtHttpError {
    /// The body is not well-formed XML, or uses XML features the reader
    /// refuses (DOCTYPE, undefined entities, CDATA, processing
    /// instructions, other encodings than UTF-8, deep nesting).
    #[error("FT-HTTP XML, byte {offset}: {reason}")]
    Xml {
        /// Byte offset in the body where the problem was found.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// Well-formed XML whose root is not the FT-HTTP `file` element.
    #[error("not an RCS FT-HTTP document: {0}")]
    NotFtHttp(String),
    /// An FT-HTTP document that breaks the RCC.07 §3.2.5 schema.
    #[error("invalid RCS FT-HTTP document: {0}")]
    Invalid(String),
}

/// Reads an FT-HTTP document (RCC.07 §3.2.5), as the module documentation
/// describes.
pub fn parse(xml: &[u8]) -> Result<FileTransfer, FtHttpError> {
    let root = xml_tree::parse_document(xml).map_err(from_tree)?;
    if root.namespace.as_deref() != Some(NAMESPACE) || root.local_name != "file" {
        let found = match root.namespace.as_deref() {
            Some(namespace) => format!("<{}> in {namespace:?}", root.local_name),
            None => format!("<{}> in no namespace", root.local_name),
        };
        return Err(FtHttpError::NotFtHttp(format!(
            "the root is {found}, not <file> in {NAMESPACE}"
        )));
    }
    check_no_text(&root)?;
    let mut file = None;
    let mut thumbnail = None;
    for child in &root.children {
        if !is_ours(child) {
            continue;
        }
        if child.local_name != "file-info" {
            return Err(invalid(format!(
                "unknown element <{}> in <file>",
                child.local_name
            )));
        }
        let slot = match child.attribute(None, "type") {
            Some("file") => &mut file,
            Some("thumbnail") => &mut thumbnail,
            Some(other) => {
                return Err(invalid(format!(
                    "<file-info> type {other:?}: must be \"file\" or \"thumbnail\""
                )));
            }
            None => return Err(invalid("a <file-info> has no type attribute".into())),
        };
        if slot.is_some() {
            return Err(invalid(format!(
                "more than one <file-info type=\"{}\">",
                child.attribute(None, "type").unwrap_or_default()
            )));
        }
        *slot = Some(file_info(child)?);
    }
    let file = file.ok_or_else(|| invalid("no <file-info type=\"file\">".into()))?;
    Ok(FileTransfer { file, thumbnail })
}

/// One `file-info`: its children in the FT-HTTP and audio-messaging
/// namespaces, each at most once.
fn file_info(element: &XmlElement) -> Result<FileInfo, FtHttpError> {
    check_no_text(element)?;
    let disposition = match element.attribute(None, "file-disposition") {
        None => None,
        Some("render") => Some(Disposition::Render),
        Some("attachment") => Some(Disposition::Attachment),
        Some(other) => {
            return Err(invalid(format!(
                "file-disposition {other:?}: must be \"render\" or \"attachment\""
            )));
        }
    };
    let mut size = None;
    let mut name = None;
    let mut content_type = None;
    let mut data = None;
    let mut branded_url = None;
    let mut playing_length = None;
    for child in &element.children {
        let slot = match (child.namespace.as_deref(), child.local_name.as_str()) {
            (Some(NAMESPACE), "file-size") => &mut size,
            (Some(NAMESPACE), "file-name") => &mut name,
            (Some(NAMESPACE), "content-type") => &mut content_type,
            (Some(NAMESPACE), "data") => &mut data,
            (Some(NAMESPACE), "branded-url") => &mut branded_url,
            (Some(AUDIO_MESSAGE_NAMESPACE), "playing-length") => &mut playing_length,
            (Some(NAMESPACE), other) => {
                return Err(invalid(format!("unknown element <{other}> in <file-info>")));
            }
            _ => continue,
        };
        if slot.replace(child).is_some() {
            return Err(invalid(format!(
                "more than one <{}> in a <file-info>",
                child.local_name
            )));
        }
    }
    let size = size.ok_or_else(|| missing("file-size"))?;
    let content_type = content_type.ok_or_else(|| missing("content-type"))?;
    let data = data.ok_or_else(|| missing("data"))?;
    let url = data
        .attribute(None, "url")
        .ok_or_else(|| invalid("<data> has no url attribute".into()))?;
    let until = data
        .attribute(None, "until")
        .map(|until| {
            parse_rfc3339(trim(until))
                .map_err(|error| invalid(format!("<data> until {until:?}: {error}")))
        })
        .transpose()?;
    Ok(FileInfo {
        size: number(size, "file-size")?,
        name: name.map(|n| text(&n.text, "file-name")).transpose()?,
        content_type: media_type(&content_type.text)?,
        url: uri(url)?,
        until,
        disposition,
        playing_length_secs: playing_length
            .map(|p| number(p, "playing-length"))
            .transpose()?,
    })
}

/// `ImdnError::Xml` is the only error the tree reader returns; its
/// fields, under this module's name.
fn from_tree(error: ImdnError) -> FtHttpError {
    match error {
        ImdnError::Xml { offset, reason } => FtHttpError::Xml { offset, reason },
        other => FtHttpError::Xml {
            offset: 0,
            reason: other.to_string(),
        },
    }
}

fn invalid(reason: String) -> FtHttpError {
    FtHttpError::Invalid(reason)
}

fn missing(element: &str) -> FtHttpError {
    invalid(format!("a <file-info> has no <{element}>"))
}

fn is_ours(element: &XmlElement) -> bool {
    element.namespace.as_deref() == Some(NAMESPACE)
}

/// `file` and `file-info` hold elements only (no mixed content in the
/// schema); white space between them is fine.
fn check_no_text(element: &XmlElement) -> Result<(), FtHttpError> {
    if trim(&element.text).is_empty() {
        Ok(())
    } else {
        Err(invalid(format!(
            "text {:?} directly inside <{}>",
            trim(&element.text),
            element.local_name
        )))
    }
}

/// XML white space (XML 1.0 §2.3 `S`) off both ends.
fn trim(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\r', '\n'])
}

/// A non-empty text value without control characters.
fn text(raw: &str, element: &str) -> Result<String, FtHttpError> {
    let value = trim(raw);
    if value.is_empty() {
        return Err(invalid(format!("<{element}> is empty")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "<{element}> {value:?} holds a control character"
        )));
    }
    Ok(value.to_owned())
}

/// `content-type`: a media type, `type/subtype` with optional parameters.
fn media_type(raw: &str) -> Result<String, FtHttpError> {
    let value = text(raw, "content-type")?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    match essence.split_once('/') {
        Some((kind, subtype)) if !kind.is_empty() && !subtype.is_empty() => Ok(value),
        _ => Err(invalid(format!(
            "<content-type> {value:?} is not a type/subtype"
        ))),
    }
}

/// `data@url` (`xs:anyURI`): non-empty, no white space or control
/// characters inside (RFC 3986 has none).
fn uri(raw: &str) -> Result<String, FtHttpError> {
    let value = trim(raw);
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!("<data> url {raw:?} is not a URI")));
    }
    Ok(value.to_owned())
}

/// A non-negative integer (`xs:integer` without a minus sign, as a size or
/// a duration is) that fits `T`.
fn number<T: std::str::FromStr>(element: &XmlElement, name: &str) -> Result<T, FtHttpError> {
    let value = trim(&element.text);
    let digits = value.strip_prefix('+').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!(
            "<{name}> {value:?} is not a non-negative integer"
        )));
    }
    digits
        .parse()
        .map_err(|_| invalid(format!("<{name}> {value:?} is too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const THUMBNAIL_AND_FILE: &[u8] =
        include_bytes!("../../../testdata/ft_http/thumbnail-and-file.xml");
    const FILE_ONLY: &[u8] = include_bytes!("../../../testdata/ft_http/file-only.xml");
    const AUDIO_MESSAGE: &[u8] = include_bytes!("../../../testdata/ft_http/audio-message.xml");

    const SERVER: &str = "https://ftcontentserver.rcs.mnc001.mcc208.pub.3gppnetwork.org";

    fn invalid_reason(document: &str) -> String {
        match parse(document.as_bytes()) {
            Err(FtHttpError::Invalid(reason)) => reason,
            other => panic!("{document:?} gave {other:?}"),
        }
    }

    /// The example document with `from` replaced by `to`.
    fn example_with(from: &str, to: &str) -> String {
        let example = std::str::from_utf8(THUMBNAIL_AND_FILE).unwrap();
        assert!(example.contains(from), "{from:?} is not in the example");
        example.replacen(from, to, 1)
    }

    #[test]
    fn reads_a_file_with_its_thumbnail() {
        let transfer = parse(THUMBNAIL_AND_FILE).unwrap();
        let until = parse_rfc3339("2017-04-25T12:17:07Z").unwrap();
        assert_eq!(
            transfer.file,
            FileInfo {
                size: 183_524,
                name: Some("IMG_0001.jpg".into()),
                content_type: "image/jpeg".into(),
                url: format!("{SERVER}/file/abc"),
                until: Some(until),
                disposition: Some(Disposition::Render),
                playing_length_secs: Some(12),
            }
        );
        assert_eq!(
            transfer.thumbnail,
            Some(FileInfo {
                size: 7427,
                name: None,
                content_type: "image/jpeg".into(),
                url: format!("{SERVER}/thumb/abc"),
                until: Some(until),
                disposition: None,
                playing_length_secs: None,
            })
        );
    }

    #[test]
    fn reads_a_file_without_thumbnail_and_skips_extensions() {
        let transfer = parse(FILE_ONLY).unwrap();
        assert_eq!(transfer.thumbnail, None);
        assert_eq!(transfer.file.size, 171_008);
        assert_eq!(transfer.file.name.as_deref(), Some("car.png"));
        assert_eq!(transfer.file.content_type, "image/png");
        assert_eq!(
            transfer.file.url,
            "https://ftcontent.example.test/s/0118140931"
        );
        // `+08:00` is kept as the sender's offset.
        assert_eq!(
            transfer.file.until,
            Some(parse_rfc3339("2021-01-21T14:09:31+08:00").unwrap())
        );
        assert_eq!(transfer.file.until.unwrap().offset_minutes, 480);
        assert_eq!(transfer.file.disposition, None);
    }

    #[test]
    fn reads_an_audio_message() {
        let file = parse(AUDIO_MESSAGE).unwrap().file;
        assert_eq!(file.content_type, "audio/amr;voice-recording=yes");
        assert_eq!(file.playing_length_secs, Some(7));
        assert_eq!(file.disposition, Some(Disposition::Render));
    }

    #[test]
    fn names_are_resolved_by_namespace_not_prefix() {
        let document = "<ft:file xmlns:ft='urn:gsma:params:xml:ns:rcs:rcs:fthttp' \
            xmlns:x='urn:example:other'>\
            <x:file-info type='file'><x:file-size>1</x:file-size></x:file-info>\
            <ft:file-info type='file' file-disposition='attachment'>\
            <ft:file-size> 42\n</ft:file-size>\
            <ft:content-type>application/pdf</ft:content-type>\
            <ft:data url=' https://ftcontent.example.test/f ' x:extra='1'/>\
            <ft:branded-url>https://ftcontent.example.test/b</ft:branded-url>\
            <x:file-hash>abc</x:file-hash>\
            </ft:file-info></ft:file>";
        let file = parse(document.as_bytes()).unwrap().file;
        assert_eq!(file.size, 42);
        assert_eq!(file.url, "https://ftcontent.example.test/f");
        assert_eq!(file.until, None);
        assert_eq!(file.name, None);
        assert_eq!(file.disposition, Some(Disposition::Attachment));
    }

    #[test]
    fn refuses_a_wrong_root_or_namespace() {
        let wrong_root =
            example_with("<file xmlns=", "<files xmlns=").replace("</file>", "</files>");
        assert!(matches!(
            parse(wrong_root.as_bytes()),
            Err(FtHttpError::NotFtHttp(_))
        ));
        let wrong_namespace = example_with(
            "xmlns=\"urn:gsma:params:xml:ns:rcs:rcs:fthttp\"",
            "xmlns=\"urn:gsma:params:xml:ns:rcs:rcs:fthttp2\"",
        );
        assert!(matches!(
            parse(wrong_namespace.as_bytes()),
            Err(FtHttpError::NotFtHttp(_))
        ));
        let no_namespace = "<file><file-info type='file'/></file>";
        let error = parse(no_namespace.as_bytes()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "not an RCS FT-HTTP document: the root is <file> in no namespace, \
             not <file> in urn:gsma:params:xml:ns:rcs:rcs:fthttp"
        );
    }

    #[test]
    fn refuses_missing_or_repeated_parts() {
        let cases = [
            (
                example_with(&format!("url=\"{SERVER}/file/abc\" "), ""),
                "no url",
            ),
            (
                example_with("<file-size>183524</file-size>", ""),
                "no <file-size>",
            ),
            (
                example_with(
                    "<content-type>image/jpeg</content-type>\n    <data",
                    "<data",
                ),
                "no <content-type>",
            ),
            (
                example_with("type=\"file\"", "type=\"thumbnail\""),
                "more than one <file-info type=\"thumbnail\">",
            ),
            (
                example_with("type=\"thumbnail\"", "type=\"file\""),
                "more than one <file-info type=\"file\">",
            ),
            (
                example_with("type=\"file\"", "type=\"video\""),
                "type \"video\"",
            ),
            (example_with("type=\"file\"", ""), "no type attribute"),
            (
                example_with("<file-name>", "<file-name>a</file-name><file-name>"),
                "more than one <file-name>",
            ),
            (
                example_with("<file-name>", "<file-hash>x</file-hash><file-name>"),
                "unknown element <file-hash> in <file-info>",
            ),
            (
                example_with("file-disposition=\"render\"", "file-disposition=\"inline\""),
                "file-disposition \"inline\"",
            ),
            (
                example_with("<file-name>IMG_0001.jpg", "<file-name>  "),
                "<file-name> is empty",
            ),
            (
                example_with("<content-type>image/jpeg", "<content-type>jpeg"),
                "not a type/subtype",
            ),
            (
                example_with("until=\"2017-04-25T12:17:07Z\"", "until=\"tomorrow\""),
                "until \"tomorrow\"",
            ),
            (
                example_with(&format!("{SERVER}/thumb/abc"), "https://a b"),
                "is not a URI",
            ),
            (
                example_with(
                    "<file-info type=\"thumbnail\">",
                    "oops<file-info type=\"thumbnail\">",
                ),
                "text \"oops\" directly inside <file>",
            ),
        ];
        for (document, expected) in cases {
            let reason = invalid_reason(&document);
            assert!(reason.contains(expected), "{expected:?}: {reason}");
        }
        let only_thumbnail = "<file xmlns='urn:gsma:params:xml:ns:rcs:rcs:fthttp'>\
            <file-info type='thumbnail'><file-size>1</file-size>\
            <content-type>image/png</content-type><data url='https://t.example.test/'/>\
            </file-info></file>";
        assert_eq!(
            invalid_reason(only_thumbnail),
            "no <file-info type=\"file\">"
        );
    }

    #[test]
    fn refuses_bad_numbers() {
        // u64::MAX is taken; one more is not.
        let largest = example_with("183524", "18446744073709551615");
        assert_eq!(parse(largest.as_bytes()).unwrap().file.size, u64::MAX);
        let huge = example_with("183524", "18446744073709551616");
        assert!(invalid_reason(&huge).contains("too large"));
        for bad in ["-1", "1e6", "", "0x10", "12 34", "١٢"] {
            let document = example_with("183524", bad);
            assert!(
                invalid_reason(&document).contains("not a non-negative integer"),
                "{bad:?}"
            );
        }
        let long_audio = example_with("<am:playing-length>12", "<am:playing-length>4294967296");
        assert!(
            invalid_reason(&long_audio).contains("<playing-length> \"4294967296\" is too large")
        );
    }

    #[test]
    fn refuses_control_characters_and_non_utf8_names() {
        let forged = example_with("IMG_0001.jpg", "IMG.jpg&#10;Bcc: x@example.test");
        assert!(invalid_reason(&forged).contains("control character"));
        let c1 = example_with("IMG_0001.jpg", "IMG\u{85}.jpg");
        assert!(invalid_reason(&c1).contains("control character"));
        // The whole body must be UTF-8 (the tree reader refuses others).
        let mut latin1 = THUMBNAIL_AND_FILE.to_vec();
        let at = latin1
            .windows(12)
            .position(|w| w == b"IMG_0001.jpg")
            .unwrap();
        latin1[at] = 0xc9; // 'É' in ISO 8859-1
        assert_eq!(
            parse(&latin1),
            Err(FtHttpError::Xml {
                offset: at,
                reason: "document is not valid UTF-8".into()
            })
        );
    }

    #[test]
    fn refuses_dangerous_xml_with_its_own_error() {
        let document = "<!DOCTYPE file [<!ENTITY x 'y'>]>\
            <file xmlns='urn:gsma:params:xml:ns:rcs:rcs:fthttp'/>";
        let error = parse(document.as_bytes()).unwrap_err();
        assert!(matches!(error, FtHttpError::Xml { offset: 0, .. }));
        assert!(
            error
                .to_string()
                .starts_with("FT-HTTP XML, byte 0: DOCTYPE")
        );
    }
}
