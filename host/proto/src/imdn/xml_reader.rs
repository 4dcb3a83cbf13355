//! A small, strict XML reader: just enough of XML 1.0 and Namespaces in
//! XML for an IMDN document, and nothing that can be abused.
//!
//! Refused on purpose: DOCTYPE (and with it every entity definition, so no
//! entity-expansion attack), entity references other than the five
//! predefined ones and character references, CDATA sections, processing
//! instructions other than the XML declaration, encodings other than
//! UTF-8, and nesting deeper than [`MAX_DEPTH`]. Comments are skipped.

use super::ImdnError;

/// Deepest element nesting accepted; an IMDN needs four levels.
pub(crate) const MAX_DEPTH: usize = 16;

/// Most attributes on one element; IMDN elements carry only `xmlns`
/// declarations, and the duplicate check is quadratic.
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
    /// Character data directly inside this element, entities decoded.
    pub text: String,
    /// Byte offset of the start tag, for error messages.
    pub offset: usize,
}

/// Reads a whole document and returns its root element.
pub(crate) fn parse_document(input: &[u8]) -> Result<XmlElement, ImdnError> {
    let text = std::str::from_utf8(input).map_err(|error| ImdnError::Xml {
        offset: error.valid_up_to(),
        reason: "document is not valid UTF-8".to_owned(),
    })?;
    if let Some(offset) = text.find(is_forbidden_char) {
        return Err(xml_error(offset, "character not allowed in XML 1.0"));
    }
    let mut reader = Reader {
        source: text,
        position: 0,
        scopes: Vec::new(),
    };
    reader.skip_byte_order_mark();
    reader.read_declaration()?;
    reader.skip_misc()?;
    if !reader.rest().starts_with('<') {
        return Err(xml_error(reader.position, "expected the root element"));
    }
    let root = reader.read_element(1)?;
    reader.skip_misc()?;
    if !reader.rest().is_empty() {
        return Err(xml_error(reader.position, "content after the root element"));
    }
    Ok(root)
}

fn xml_error(offset: usize, reason: &str) -> ImdnError {
    ImdnError::Xml {
        offset,
        reason: reason.to_owned(),
    }
}

/// XML 1.0 §2.2 `Char` excludes most C0 controls and two non-characters.
fn is_forbidden_char(character: char) -> bool {
    (character.is_control() && !matches!(character, '\t' | '\n' | '\r' | '\u{7f}'..='\u{9f}'))
        || matches!(character, '\u{fffe}' | '\u{ffff}')
}

/// Prefix → namespace bindings declared on one element.
type Scope = Vec<(Option<String>, String)>;

struct Reader<'a> {
    source: &'a str,
    /// Always on a character boundary: it only moves past ASCII bytes or
    /// to positions returned by `str::find`.
    position: usize,
    scopes: Vec<Scope>,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.source[self.position..]
    }

    fn advance(&mut self, bytes: usize) {
        self.position += bytes;
    }

    fn skip_byte_order_mark(&mut self) {
        if self.rest().starts_with('\u{feff}') {
            self.advance('\u{feff}'.len_utf8());
        }
    }

    /// Skips XML whitespace; returns whether there was any.
    fn skip_whitespace(&mut self) -> bool {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        self.advance(rest.len() - trimmed.len());
        rest.len() != trimmed.len()
    }

    fn expect(&mut self, wanted: &str, reason: &str) -> Result<(), ImdnError> {
        if self.rest().starts_with(wanted) {
            self.advance(wanted.len());
            Ok(())
        } else {
            Err(xml_error(self.position, reason))
        }
    }

    /// An XML name, restricted to ASCII: `[A-Za-z_:][A-Za-z0-9._:-]*`.
    fn read_name(&mut self) -> Result<&'a str, ImdnError> {
        let rest = self.rest();
        let starts_well = rest
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':');
        if !starts_well {
            return Err(xml_error(self.position, "expected a name"));
        }
        let length = rest
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-')))
            .unwrap_or(rest.len());
        self.advance(length);
        Ok(&rest[..length])
    }

    /// The optional `<?xml version="1.0" encoding="UTF-8"?>` (XML 1.0 §2.8).
    fn read_declaration(&mut self) -> Result<(), ImdnError> {
        let rest = self.rest();
        let is_declaration =
            rest.starts_with("<?xml") && rest[5..].starts_with([' ', '\t', '\r', '\n', '?']);
        if !is_declaration {
            return Ok(());
        }
        self.advance(5);
        loop {
            self.skip_whitespace();
            if self.rest().starts_with("?>") {
                self.advance(2);
                return Ok(());
            }
            let offset = self.position;
            let (name, value) = self.read_attribute()?;
            let acceptable = match name {
                "version" => value.starts_with("1."),
                "encoding" => value.eq_ignore_ascii_case("UTF-8"),
                "standalone" => true,
                _ => false,
            };
            if !acceptable {
                return Err(xml_error(
                    offset,
                    "XML declaration must be version 1.x and encoding UTF-8",
                ));
            }
        }
    }

    /// Whitespace and comments around the root element; refuses DOCTYPE
    /// and processing instructions.
    fn skip_misc(&mut self) -> Result<(), ImdnError> {
        loop {
            self.skip_whitespace();
            let rest = self.rest();
            if rest.starts_with("<!--") {
                self.skip_comment()?;
            } else if rest.starts_with("<!") {
                return Err(xml_error(
                    self.position,
                    "DOCTYPE and markup declarations are refused",
                ));
            } else if rest.starts_with("<?") {
                return Err(xml_error(
                    self.position,
                    "processing instructions are refused",
                ));
            } else {
                return Ok(());
            }
        }
    }

    fn skip_comment(&mut self) -> Result<(), ImdnError> {
        let body = &self.rest()[4..];
        let end = body
            .find("-->")
            .ok_or(xml_error(self.position, "comment is not closed"))?;
        self.advance(4 + end + 3);
        Ok(())
    }

    /// `name = "value"` with entities decoded.
    fn read_attribute(&mut self) -> Result<(&'a str, String), ImdnError> {
        let name = self.read_name()?;
        self.skip_whitespace();
        self.expect("=", "expected '=' after the attribute name")?;
        self.skip_whitespace();
        let quote = match self.rest().chars().next() {
            Some(quote @ ('"' | '\'')) => quote,
            _ => return Err(xml_error(self.position, "attribute value must be quoted")),
        };
        self.advance(1);
        let rest = self.rest();
        let end = rest
            .find(quote)
            .ok_or(xml_error(self.position, "attribute value is not closed"))?;
        let raw = &rest[..end];
        if raw.contains('<') {
            return Err(xml_error(self.position, "'<' inside an attribute value"));
        }
        let value = decode_references(raw, self.position)?;
        self.advance(end + 1);
        Ok((name, value))
    }

    /// Reads an element starting at its `<`, children included.
    fn read_element(&mut self, depth: usize) -> Result<XmlElement, ImdnError> {
        if depth > MAX_DEPTH {
            return Err(xml_error(self.position, "elements nested too deeply"));
        }
        let offset = self.position;
        self.expect("<", "expected '<'")?;
        let qualified_name = self.read_name()?;
        let mut attributes: Vec<(&str, String)> = Vec::new();
        let self_closing = loop {
            let separated = self.skip_whitespace();
            if self.rest().starts_with("/>") {
                self.advance(2);
                break true;
            }
            if self.rest().starts_with('>') {
                self.advance(1);
                break false;
            }
            if !separated {
                return Err(xml_error(self.position, "expected whitespace, '>' or '/>'"));
            }
            let attribute_offset = self.position;
            if attributes.len() == MAX_ATTRIBUTES {
                return Err(xml_error(attribute_offset, "too many attributes"));
            }
            let (name, value) = self.read_attribute()?;
            if attributes.iter().any(|(seen, _)| *seen == name) {
                return Err(xml_error(attribute_offset, "duplicate attribute"));
            }
            attributes.push((name, value));
        };

        self.scopes.push(namespace_scope(&attributes, offset)?);
        let (namespace, local_name) = self.resolve(qualified_name, offset)?;
        let mut element = XmlElement {
            namespace,
            local_name: local_name.to_owned(),
            children: Vec::new(),
            text: String::new(),
            offset,
        };
        if !self_closing {
            self.read_content(&mut element, qualified_name, depth)?;
        }
        self.scopes.pop();
        Ok(element)
    }

    fn read_content(
        &mut self,
        element: &mut XmlElement,
        qualified_name: &str,
        depth: usize,
    ) -> Result<(), ImdnError> {
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Err(xml_error(self.position, "document ends inside an element"));
            } else if rest.starts_with("</") {
                self.advance(2);
                let end_offset = self.position;
                if self.read_name()? != qualified_name {
                    return Err(xml_error(end_offset, "end tag does not match start tag"));
                }
                self.skip_whitespace();
                return self.expect(">", "expected '>' to close the end tag");
            } else if rest.starts_with("<!--") {
                self.skip_comment()?;
            } else if rest.starts_with("<!") {
                return Err(xml_error(
                    self.position,
                    "CDATA and declarations are refused",
                ));
            } else if rest.starts_with("<?") {
                return Err(xml_error(
                    self.position,
                    "processing instructions are refused",
                ));
            } else if rest.starts_with('<') {
                let child = self.read_element(depth + 1)?;
                element.children.push(child);
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let decoded = decode_references(&rest[..end], self.position)?;
                element.text.push_str(&decoded);
                self.advance(end);
            }
        }
    }

    /// Namespaces in XML §6: an unprefixed element takes the default
    /// namespace; a prefix must be declared in scope.
    fn resolve(
        &self,
        qualified_name: &'a str,
        offset: usize,
    ) -> Result<(Option<String>, &'a str), ImdnError> {
        let (prefix, local_name) = match qualified_name.split_once(':') {
            Some((prefix, local)) => (Some(prefix), local),
            None => (None, qualified_name),
        };
        if local_name.is_empty() || local_name.contains(':') || prefix == Some("") {
            return Err(xml_error(offset, "malformed qualified name"));
        }
        let binding = self
            .scopes
            .iter()
            .rev()
            .flat_map(|scope| scope.iter())
            .find(|(bound, _)| bound.as_deref() == prefix)
            .map(|(_, uri)| uri);
        match (prefix, binding) {
            (_, Some(uri)) if !uri.is_empty() => Ok((Some(uri.clone()), local_name)),
            (None, _) => Ok((None, local_name)),
            (Some(_), _) => Err(xml_error(offset, "undeclared namespace prefix")),
        }
    }
}

/// The `xmlns` and `xmlns:p` declarations among an element's attributes.
fn namespace_scope(attributes: &[(&str, String)], offset: usize) -> Result<Scope, ImdnError> {
    let mut scope = Scope::new();
    for (name, value) in attributes {
        if *name == "xmlns" {
            scope.push((None, value.clone()));
        } else if let Some(prefix) = name.strip_prefix("xmlns:") {
            if value.is_empty() {
                return Err(xml_error(
                    offset,
                    "a prefix cannot be bound to an empty namespace",
                ));
            }
            scope.push((Some(prefix.to_owned()), value.clone()));
        }
    }
    Ok(scope)
}

/// Decodes the five predefined entities and character references
/// (XML 1.0 §4.1, §4.6); any other `&name;` is refused, since without a
/// DOCTYPE it cannot be defined.
fn decode_references(raw: &str, offset: usize) -> Result<String, ImdnError> {
    let mut decoded = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(ampersand) = rest.find('&') {
        decoded.push_str(&rest[..ampersand]);
        let after = &rest[ampersand + 1..];
        let semicolon = after
            .find(';')
            .ok_or(xml_error(offset, "'&' without a closing ';'"))?;
        let reference = &after[..semicolon];
        let character = match reference {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => character_reference(reference).ok_or(xml_error(
                offset,
                "unknown entity or bad character reference",
            ))?,
        };
        decoded.push(character);
        rest = &after[semicolon + 1..];
    }
    decoded.push_str(rest);
    Ok(decoded)
}

/// `#123` or `#x7B`, limited to characters XML allows.
fn character_reference(reference: &str) -> Option<char> {
    let number = reference.strip_prefix('#')?;
    let code = match number.strip_prefix('x') {
        Some(hex) if !hex.is_empty() && hex.len() <= 6 => u32::from_str_radix(hex, 16).ok()?,
        Some(_) => return None,
        None if !number.is_empty() && number.len() <= 7 => number.parse().ok()?,
        None => return None,
    };
    char::from_u32(code).filter(|&c| c != '\0' && !is_forbidden_char(c))
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
            b"<?xml version='1.0' encoding='utf-8'?>\n<!-- hi -->\n<a:r xmlns:a=\"urn:a\" xmlns=\"urn:d\"><c>x &amp; &#x3C;&#62; &quot;&apos;</c><e/><a:f xmlns=''><g/></a:f></a:r>",
        )
        .unwrap();
        assert_eq!(root.namespace.as_deref(), Some("urn:a"));
        assert_eq!(root.local_name, "r");
        assert_eq!(root.children[0].namespace.as_deref(), Some("urn:d"));
        assert_eq!(root.children[0].text, "x & <> \"'");
        assert_eq!(root.children[1].local_name, "e");
        assert_eq!(root.children[2].children[0].namespace, None);
    }

    #[test]
    fn refuses_dangerous_or_unsupported_xml() {
        let cases = [
            ("<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>", "DOCTYPE"),
            ("<r>&x;</r>", "unknown entity"),
            ("<r>&#0;</r>", "character reference"),
            ("<r><![CDATA[x]]></r>", "CDATA"),
            (
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r/>",
                "UTF-8",
            ),
            ("<?pi x?><r/>", "processing instructions"),
            ("<r><?pi x?></r>", "processing instructions"),
            ("<r></s>", "does not match"),
            ("<r>", "ends inside"),
            ("<r/><r/>", "after the root"),
            ("<p:r/>", "undeclared"),
            ("<r a='1' a='2'/>", "duplicate"),
            ("<r a=1/>", "quoted"),
            ("<r a='<'/>", "'<'"),
            ("<r>\u{1}</r>", "not allowed"),
            ("text", "root element"),
            ("", "root element"),
            ("<r>&amp</r>", "closing ';'"),
            ("<r a='1'b='2'/>", "whitespace"),
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
    }

    #[test]
    fn refuses_too_many_attributes() {
        let attributes: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}='x'")).collect();
        assert!(reason_of(&format!("<r{attributes}/>")).contains("too many"));
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert!(matches!(
            parse_document(b"<r>\xff</r>"),
            Err(ImdnError::Xml { offset: 3, .. })
        ));
    }
}
