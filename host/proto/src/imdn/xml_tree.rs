//! The notification document as a small element tree, read with
//! quick-xml's [`NsReader`] so that every name is resolved to its
//! namespace URI (Namespaces in XML §6), never judged by its prefix.
//!
//! quick-xml never processes a DTD, but it hands DOCTYPE, CDATA,
//! processing instructions and entity references to the caller. RFC 5438's
//! schema and examples use none of them, so this module refuses: DOCTYPE (and with it every entity definition, so no entity
//! expansion), entity references other than the five predefined ones and
//! character references, CDATA sections, processing instructions other than
//! the XML declaration, encodings other than UTF-8, nesting deeper than
//! [`MAX_DEPTH`] and more than [`MAX_ATTRIBUTES`] attributes on one element.
//! Comments are skipped.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};
use quick_xml::name::{PrefixDeclaration, ResolveResult};
use quick_xml::reader::NsReader;

use super::ImdnError;

/// Deepest element nesting accepted; an IMDN needs four levels.
pub(crate) const MAX_DEPTH: usize = 16;

/// Most attributes on one element; IMDN elements carry only `xmlns`
/// declarations, and quick-xml's duplicate check is quadratic.
pub(crate) const MAX_ATTRIBUTES: usize = 32;

/// An element with its namespace resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlElement {
    /// Namespace URI, `None` when the element is in no namespace.
    pub namespace: Option<String>,
    /// Name without prefix.
    pub local_name: String,
    /// Child elements in document order.
    pub children: Vec<XmlElement>,
    /// Character data directly inside this element, references decoded and
    /// line ends normalised (XML 1.0 §2.11).
    pub text: String,
    /// Attributes other than namespace declarations, their names resolved
    /// (an unprefixed attribute is in no namespace, Namespaces in XML §6.2).
    pub attributes: Vec<XmlAttribute>,
}

/// An attribute with its namespace resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlAttribute {
    /// Namespace URI, `None` for an unprefixed attribute.
    pub namespace: Option<String>,
    /// Name without prefix.
    pub local_name: String,
    /// The value, references decoded and whitespace normalised.
    pub value: String,
}

impl XmlElement {
    /// The value of the attribute `local_name` in `namespace`.
    pub(crate) fn attribute(&self, namespace: Option<&str>, local_name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.namespace.as_deref() == namespace && a.local_name == local_name)
            .map(|a| a.value.as_str())
    }
}

/// Reads a whole document and returns its root element.
pub(crate) fn parse_document(input: &[u8]) -> Result<XmlElement, ImdnError> {
    // Only UTF-8 is read (`NsReader::from_str` takes text), and quick-xml
    // does not check XML's character set (XML 1.0 §2.2): both here, before
    // any parsing.
    let text = std::str::from_utf8(input).map_err(|error| ImdnError::Xml {
        offset: error.valid_up_to(),
        reason: "document is not valid UTF-8".to_owned(),
    })?;
    if let Some(offset) = text.find(is_forbidden_char) {
        return Err(xml_error(offset, "character not allowed in XML 1.0"));
    }

    let mut reader = NsReader::from_str(text);
    // `--` inside a comment is not XML (XML 1.0 §2.5).
    reader.config_mut().check_comments = true;
    let mut builder = TreeBuilder::default();
    loop {
        let offset = position(reader.buffer_position());
        let (namespace, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (namespace_of(resolved, offset)?, event),
            Err(error) => {
                return Err(xml_error(
                    position(reader.error_position()),
                    &error.to_string(),
                ));
            }
        };
        match event {
            Event::Decl(declaration) if offset_is_document_start(text, offset) => {
                check_declaration(&declaration, offset)?;
            }
            Event::Decl(_) => {
                return Err(xml_error(
                    offset,
                    "the XML declaration must start the document",
                ));
            }
            Event::DocType(_) => {
                return Err(xml_error(
                    offset,
                    "DOCTYPE and markup declarations are refused",
                ));
            }
            Event::PI(_) => {
                return Err(xml_error(offset, "processing instructions are refused"));
            }
            Event::CData(_) => return Err(xml_error(offset, "CDATA sections are refused")),
            Event::Comment(_) => {}
            Event::Start(start) => {
                let mut element = builder.element(&start, namespace, offset)?;
                element.attributes = attributes_of(&reader, &start, offset)?;
                builder.open(element, offset)?;
            }
            Event::Empty(start) => {
                let mut element = builder.element(&start, namespace, offset)?;
                element.attributes = attributes_of(&reader, &start, offset)?;
                builder.open(element, offset)?;
                builder.close();
            }
            // quick-xml has checked that it matches the start tag.
            Event::End(_) => builder.close(),
            Event::Text(characters) => builder.text(&characters.xml10_content(), offset)?,
            Event::GeneralRef(reference) => {
                let character = decode_reference(&reference, offset)?;
                builder.text(&character, offset)?;
            }
            Event::Eof => return builder.finish(offset),
        }
    }
}

fn xml_error(offset: usize, reason: &str) -> ImdnError {
    ImdnError::Xml {
        offset,
        reason: reason.to_owned(),
    }
}

/// quick-xml counts in `u64`; a document in memory fits in `usize`.
fn position(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

/// The start of the document, after an optional byte order mark.
fn offset_is_document_start(text: &str, offset: usize) -> bool {
    offset == 0 || (text.starts_with('\u{feff}') && offset == '\u{feff}'.len_utf8())
}

/// XML 1.0 §2.2 `Char` excludes most C0 controls and two non-characters.
fn is_forbidden_char(character: char) -> bool {
    (character.is_control() && !matches!(character, '\t' | '\n' | '\r' | '\u{7f}'..='\u{9f}'))
        || matches!(character, '\u{fffe}' | '\u{ffff}')
}

/// `<?xml version="1.x" encoding="UTF-8"?>` (XML 1.0 §2.8, §4.3.3); no
/// other encoding is read.
fn check_declaration(declaration: &BytesDecl<'_>, offset: usize) -> Result<(), ImdnError> {
    let refused = || {
        xml_error(
            offset,
            "XML declaration must be version 1.x and encoding UTF-8",
        )
    };
    let version = declaration.version().map_err(|_| refused())?;
    if !version.starts_with("1.") {
        return Err(refused());
    }
    match declaration.encoding() {
        None => Ok(()),
        Some(Ok(encoding)) if encoding.eq_ignore_ascii_case("UTF-8") => Ok(()),
        Some(_) => Err(refused()),
    }
}

/// The namespace URI of an element; an undeclared prefix is an error
/// (Namespaces in XML §5, "Namespace Constraint: Prefix Declared").
fn namespace_of(resolved: ResolveResult<'_>, offset: usize) -> Result<Option<String>, ImdnError> {
    match resolved {
        ResolveResult::Bound(namespace) => Ok(Some(namespace.0.to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(_) => Err(xml_error(offset, "undeclared namespace prefix")),
    }
}

/// A character reference, or one of the five predefined entities
/// (XML 1.0 §4.1, §4.6). Any other `&name;` is refused: without a DOCTYPE
/// it cannot have been defined.
fn decode_reference(
    reference: &BytesRef<'_>,
    offset: usize,
) -> Result<Cow<'static, str>, ImdnError> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(character)) if !is_forbidden_char(character) => {
                Ok(Cow::Owned(character.to_string()))
            }
            _ => Err(xml_error(offset, "bad character reference")),
        };
    }
    resolve_xml_entity(reference)
        .map(Cow::Borrowed)
        .ok_or_else(|| xml_error(offset, &format!("unknown entity {:?}", &**reference)))
}

/// Builds the tree from the events, one open element per nesting level.
#[derive(Default)]
struct TreeBuilder {
    open: Vec<XmlElement>,
    root: Option<XmlElement>,
}

impl TreeBuilder {
    /// The element a start tag opens, its attributes checked.
    fn element(
        &self,
        start: &BytesStart<'_>,
        namespace: Option<String>,
        offset: usize,
    ) -> Result<XmlElement, ImdnError> {
        if self.root.is_some() {
            return Err(xml_error(offset, "content after the root element"));
        }
        check_attributes(start, offset)?;
        let (local_name, prefix) = start.name().decompose();
        let local_name = local_name.into_inner();
        if local_name.is_empty()
            || local_name.contains(':')
            || prefix.is_some_and(|p| p.into_inner().is_empty())
        {
            return Err(xml_error(offset, "malformed qualified name"));
        }
        Ok(XmlElement {
            namespace,
            local_name: local_name.to_owned(),
            children: Vec::new(),
            text: String::new(),
            attributes: Vec::new(),
        })
    }

    fn open(&mut self, element: XmlElement, offset: usize) -> Result<(), ImdnError> {
        if self.open.len() == MAX_DEPTH {
            return Err(xml_error(offset, "elements nested too deeply"));
        }
        self.open.push(element);
        Ok(())
    }

    fn close(&mut self) {
        let Some(element) = self.open.pop() else {
            return;
        };
        match self.open.last_mut() {
            Some(parent) => parent.children.push(element),
            None => self.root = Some(element),
        }
    }

    /// Character data; outside the root element only whitespace may
    /// appear (XML 1.0 §2.8 `Misc`).
    fn text(&mut self, characters: &str, offset: usize) -> Result<(), ImdnError> {
        match self.open.last_mut() {
            Some(element) => element.text.push_str(characters),
            None if characters.trim_matches([' ', '\t', '\r', '\n']).is_empty() => {}
            None if self.root.is_some() => {
                return Err(xml_error(offset, "content after the root element"));
            }
            None => return Err(xml_error(offset, "expected the root element")),
        }
        Ok(())
    }

    fn finish(mut self, offset: usize) -> Result<XmlElement, ImdnError> {
        if !self.open.is_empty() {
            return Err(xml_error(offset, "document ends inside an element"));
        }
        self.root
            .take()
            .ok_or_else(|| xml_error(offset, "expected the root element"))
    }
}

/// The attributes of a start tag (already checked), namespace
/// declarations left out.
fn attributes_of(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    offset: usize,
) -> Result<Vec<XmlAttribute>, ImdnError> {
    let mut attributes = Vec::new();
    for attribute in start.attributes().flatten() {
        if attribute.key.as_namespace_binding().is_some() {
            continue;
        }
        let (resolved, local) = reader.resolver().resolve_attribute(attribute.key);
        let namespace = namespace_of(resolved, offset)?;
        let value = attribute
            .normalized_value_with(XmlVersion::Implicit1_0, 1, resolve_xml_entity)
            .map_err(|error| xml_error(offset, &format!("attribute value, {error}")))?;
        attributes.push(XmlAttribute {
            namespace,
            local_name: local.into_inner().to_owned(),
            value: value.into_owned(),
        });
    }
    Ok(attributes)
}

/// Well-formed, unique attributes (XML 1.0 §3.1), at most
/// [`MAX_ATTRIBUTES`], with values that use no undefined entity.
fn check_attributes(start: &BytesStart<'_>, offset: usize) -> Result<(), ImdnError> {
    // Counted before the checked pass, whose duplicate check is quadratic.
    if start.attributes().with_checks(false).count() > MAX_ATTRIBUTES {
        return Err(xml_error(offset, "too many attributes"));
    }
    for attribute in start.attributes() {
        // quick-xml's positions here count from the `<` at `offset`.
        let attribute =
            attribute.map_err(|error| xml_error(offset, &format!("in the start tag, {error}")))?;
        if attribute.value.contains('<') {
            return Err(xml_error(offset, "'<' inside an attribute value"));
        }
        let value = attribute
            .normalized_value_with(XmlVersion::Implicit1_0, 1, resolve_xml_entity)
            .map_err(|error| xml_error(offset, &format!("attribute value, {error}")))?;
        // Namespaces in XML 1.0 §3: a prefix cannot be undeclared.
        let named_prefix = matches!(
            attribute.key.as_namespace_binding(),
            Some(PrefixDeclaration::Named(_))
        );
        if named_prefix && value.is_empty() {
            return Err(xml_error(
                offset,
                "a prefix cannot be bound to an empty namespace",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason_of(document: &str) -> String {
        match parse_document(document.as_bytes()) {
            Err(ImdnError::Xml { reason, .. }) => reason,
            other => panic!("{document:?} gave {other:?}"),
        }
    }

    #[test]
    fn reads_namespaces_text_and_references() {
        let root = parse_document(
            b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>\n<!-- hi -->\n<a:r xmlns:a=\"urn:a\" xmlns=\"urn:d\"><c>x &amp; &#x3C;&#62; &quot;&apos;\r\n</c><e/><a:f xmlns=''><g/></a:f></a:r>",
        )
        .unwrap();
        assert_eq!(root.namespace.as_deref(), Some("urn:a"));
        assert_eq!(root.local_name, "r");
        assert_eq!(root.children[0].namespace.as_deref(), Some("urn:d"));
        assert_eq!(root.children[0].text, "x & <> \"'\n");
        assert_eq!(root.children[1].local_name, "e");
        assert_eq!(root.children[2].children[0].namespace, None);
    }

    #[test]
    fn refuses_dangerous_or_unsupported_xml() {
        let cases = [
            ("<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>", "DOCTYPE"),
            ("<r>&x;</r>", "unknown entity"),
            ("<r a='&x;'/>", "unrecognized entity"),
            ("<r>&#0;</r>", "character reference"),
            ("<r>&#1;</r>", "character reference"),
            ("<r><![CDATA[x]]></r>", "CDATA"),
            (
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r/>",
                "UTF-8",
            ),
            ("<?xml version=\"2.0\"?><r/>", "version 1.x"),
            (" <?xml version=\"1.0\"?><r/>", "must start"),
            ("<?pi x?><r/>", "processing instructions"),
            ("<r><?pi x?></r>", "processing instructions"),
            ("<r/><?pi x?>", "processing instructions"),
            ("<r><!-- a -- b --></r>", "--"),
            ("<r></s>", "s"),
            ("<r>", "ends inside"),
            ("<r/><r/>", "after the root"),
            ("<r/>text", "after the root"),
            ("<p:r/>", "undeclared"),
            ("<r xmlns:p=''/>", "empty namespace"),
            ("<r a=1/>", "enclosed"),
            ("<r a='<'/>", "'<'"),
            ("<r>\u{1}</r>", "not allowed"),
            ("text", "root element"),
            ("", "root element"),
            ("<r>&amp</r>", "not closed"),
            ("<r a='1' a='2'/>", "duplicated"),
        ];
        for (document, expected) in cases {
            let reason = reason_of(document);
            assert!(reason.contains(expected), "{document:?}: {reason}");
        }
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert!(reason_of(&deep).contains("deeply"));
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse_document(ok.as_bytes()).is_ok());
        let deep_empty = format!(
            "{}<a/>{}",
            "<a>".repeat(MAX_DEPTH),
            "</a>".repeat(MAX_DEPTH)
        );
        assert!(reason_of(&deep_empty).contains("deeply"));
    }

    #[test]
    fn refuses_too_many_attributes() {
        let attributes: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}='x'")).collect();
        assert!(reason_of(&format!("<r{attributes}/>")).contains("too many"));
        let attributes: String = (0..MAX_ATTRIBUTES).map(|i| format!(" a{i}='x'")).collect();
        assert!(parse_document(format!("<r{attributes}/>").as_bytes()).is_ok());
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert!(matches!(
            parse_document(b"<r>\xff</r>"),
            Err(ImdnError::Xml { offset: 3, .. })
        ));
    }
}
