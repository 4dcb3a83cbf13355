//! Lexical pieces of CPIM header values: names, tokens, the escape
//! mechanism (RFC 3862 §2.3), quoted strings and `[Formal-name] <URI>`
//! addresses (RFC 3862 §4.1).

use super::CpimError;

/// RFC 3862 §3.6 `NAMECHAR`: the characters of header names and prefixes.
///
/// WHY no `.`: the dot separates a namespace prefix from the name.
pub fn is_name_char(character: char) -> bool {
    character.is_ascii_alphanumeric()
        || matches!(
            character,
            '!' | '#' | '$' | '%' | '&' | '\'' | '*' | '+' | '-' | '^' | '_' | '`' | '|' | '~'
        )
}

/// RFC 3862 §3.6 `TOKENCHAR` = `NAMECHAR` / `"."` / `UCS-high`.
///
/// Non-ASCII control and whitespace characters (NEL, U+2028, ...) are
/// left out of `UCS-high` here: some software treats them as line breaks.
pub fn is_token_char(character: char) -> bool {
    is_name_char(character)
        || character == '.'
        || !(character.is_ascii() || character.is_control() || character.is_whitespace())
}

/// True for a non-empty RFC 3862 `Name` (a header name or a prefix).
pub fn is_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(is_name_char)
}

/// True for a non-empty RFC 3862 `Token`.
pub fn is_token(text: &str) -> bool {
    !text.is_empty() && text.chars().all(is_token_char)
}

/// Turns arbitrary text into a header value that cannot break the header
/// line: RFC 3862 §2.3 escapes for `\`, CR, LF, TAB and backspace, and
/// `\uXXXX` for every other control character.
///
/// [`decode_escapes`] gives the original text back.
pub fn escape_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        push_escaped(&mut escaped, character, false);
    }
    escaped
}

/// Wraps text in an RFC 3862 `String` (double quotes, §2.3 escapes), as
/// used for display names.
pub fn quote_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        push_escaped(&mut quoted, character, true);
    }
    quoted.push('"');
    quoted
}

fn push_escaped(out: &mut String, character: char, inside_quotes: bool) {
    match character {
        '\\' => out.push_str("\\\\"),
        '"' if inside_quotes => out.push_str("\\\""),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        control if control.is_control() => {
            out.push_str(&format!("\\u{:04X}", control as u32));
        }
        other => out.push(other),
    }
}

/// Decodes the RFC 3862 §2.3 escapes of a header value such as `Subject`.
///
/// Lenient on purpose: a backslash that starts no valid escape (say, a
/// Windows path typed by a user) is kept as it is rather than failing the
/// whole message.
pub fn decode_escapes(value: &str) -> String {
    let mut decoded = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(backslash) = rest.find('\\') {
        decoded.push_str(&rest[..backslash]);
        let after = &rest[backslash + 1..];
        match decode_one_escape(after) {
            Some((character, used)) => {
                decoded.push(character);
                rest = &after[used..];
            }
            None => {
                decoded.push('\\');
                rest = after;
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

/// Decodes the escape whose backslash has just been consumed; returns the
/// character and how many bytes of `after` it used.
fn decode_one_escape(after: &str) -> Option<(char, usize)> {
    let first = after.chars().next()?;
    let simple = match first {
        'b' => Some('\u{8}'),
        't' => Some('\t'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        '"' => Some('"'),
        '\'' => Some('\''),
        '\\' => Some('\\'),
        _ => None,
    };
    if let Some(character) = simple {
        return Some((character, 1));
    }
    if first == 'u' {
        let hex = after.get(1..5)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let code = u32::from_str_radix(hex, 16).ok()?;
        return char::from_u32(code).map(|character| (character, 5));
    }
    None
}

/// Reads an RFC 3862 `String` at the start of `text`; returns the decoded
/// content and the text after the closing quote.
///
/// Inside quotes a backslash always escapes the next character, as a
/// quoted-pair does in SIP, so `\x` reads as `x`; otherwise an unknown
/// escape before a quote would make the end of the string ambiguous.
pub(crate) fn parse_quoted_string(text: &str) -> Result<(String, &str), &'static str> {
    let Some(inner) = text.strip_prefix('"') else {
        return Err("quoted string must start with '\"'");
    };
    let mut decoded = String::new();
    let mut characters = inner.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Ok((decoded, &inner[index + 1..])),
            '\\' => {
                let after = &inner[index + 1..];
                match decode_one_escape(after) {
                    Some((escaped, used)) => {
                        decoded.push(escaped);
                        for _ in after[..used].chars() {
                            characters.next();
                        }
                    }
                    None => match characters.next() {
                        Some((_, literal)) => decoded.push(literal),
                        None => return Err("quoted string ends with a lone backslash"),
                    },
                }
            }
            control if control.is_control() => {
                return Err("control character inside quoted string");
            }
            other => decoded.push(other),
        }
    }
    Err("quoted string is not closed")
}

/// Reads a `From`, `To` or `cc` value: `[ Formal-name ] "<" URI ">"`
/// (RFC 3862 §4.1–4.3). Returns the display name (decoded if quoted) and
/// the URI.
///
/// Strict about the structure (angle brackets, nothing after `>`), lenient
/// about the characters of an unquoted display name: clients put all sorts
/// of text there and the gateway only shows it.
pub fn parse_address(value: &str) -> Result<(Option<String>, String), &'static str> {
    let value = value.trim_matches([' ', '\t']);
    let (display_name, rest) = if value.starts_with('"') {
        let (name, rest) = parse_quoted_string(value)?;
        (Some(name), rest.trim_start_matches([' ', '\t']))
    } else {
        let open = value.find('<').ok_or("address must contain '<URI>'")?;
        let name = value[..open].trim_end_matches([' ', '\t']);
        let name = (!name.is_empty()).then(|| name.to_owned());
        (name, &value[open..])
    };
    let inner = rest
        .strip_prefix('<')
        .ok_or("address must contain '<URI>'")?;
    let close = inner
        .find('>')
        .ok_or("'<' of the URI is not closed by '>'")?;
    let uri = &inner[..close];
    if !inner[close + 1..].is_empty() {
        return Err("unexpected text after '>'");
    }
    check_uri(uri)?;
    Ok((display_name, uri.to_owned()))
}

/// Formats a `From`/`To`/`cc` value. A display name is always written as a
/// quoted `String`, so whatever it contains (quotes, CR/LF from an e-mail
/// header) is escaped and cannot end the header line.
pub fn format_address(display_name: Option<&str>, uri: &str) -> Result<String, CpimError> {
    check_uri(uri).map_err(|reason| CpimError::InvalidHeader {
        header: "address".to_owned(),
        reason: reason.to_owned(),
    })?;
    Ok(match display_name {
        Some(name) if !name.is_empty() => format!("{} <{uri}>", quote_string(name)),
        _ => format!("<{uri}>"),
    })
}

fn check_uri(uri: &str) -> Result<(), &'static str> {
    if uri.is_empty() {
        return Err("URI between '<' and '>' is empty");
    }
    if uri
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
    {
        return Err("URI contains whitespace, a control character, '<', '>' or '\"'");
    }
    Ok(())
}

/// `Header-parameters` as scanned by [`scan_parameters`]: their byte
/// length and each `(name, raw value)`; a quoted value keeps its quotes.
pub(crate) type ScannedParameters<'a> = (usize, Vec<(&'a str, &'a str)>);

/// Scans `Header-parameters` (`*( ";" Parameter )`, RFC 3862 §3.6) at the
/// start of `text`. Stops before the space that separates them from the
/// header value.
pub(crate) fn scan_parameters(text: &str) -> Result<ScannedParameters<'_>, &'static str> {
    let mut position = 0;
    let mut parameters = Vec::new();
    while text[position..].starts_with(';') {
        position += 1;
        let parameter = &text[position..];
        let name_length = parameter
            .find(|c: char| !is_name_char(c))
            .unwrap_or(parameter.len());
        if name_length == 0 {
            return Err("parameter name is missing after ';'");
        }
        let after_name = &parameter[name_length..];
        let Some(value) = after_name.strip_prefix('=') else {
            return Err("parameter must be name=value");
        };
        let value_length = if value.starts_with('"') {
            let (_, rest) = parse_quoted_string(value)?;
            value.len() - rest.len()
        } else {
            value
                .find(|c: char| !is_token_char(c))
                .unwrap_or(value.len())
        };
        if value_length == 0 {
            return Err("parameter value is missing after '='");
        }
        parameters.push((&parameter[..name_length], &value[..value_length]));
        position += name_length + 1 + value_length;
        if !matches!(text[position..].chars().next(), None | Some(' ' | ';')) {
            return Err("parameter value contains a character not allowed in a token");
        }
    }
    Ok((position, parameters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_decodes_back() {
        let original = "line one\r\nline two\ttab \\ back \u{7} bell \"q\"";
        let escaped = escape_text(original);
        assert!(!escaped.chars().any(char::is_control), "{escaped:?}");
        assert_eq!(decode_escapes(&escaped), original);
    }

    #[test]
    fn decoding_keeps_unknown_escapes() {
        assert_eq!(decode_escapes(r"C:\Users\x"), r"C:\Users\x");
        assert_eq!(decode_escapes(r"\u00e9t\u00E9"), "été");
        assert_eq!(decode_escapes(r"\uD800"), r"\uD800");
        assert_eq!(decode_escapes("end\\"), "end\\");
    }

    #[test]
    fn reads_addresses() {
        assert_eq!(
            parse_address("MR SANDERS <im:piglet@100akerwood.com>").unwrap(),
            (
                Some("MR SANDERS".into()),
                "im:piglet@100akerwood.com".into()
            )
        );
        assert_eq!(
            parse_address(r#""Alice \"Al\" O'Neil" <im:alice@example.com>"#).unwrap(),
            (
                Some("Alice \"Al\" O'Neil".into()),
                "im:alice@example.com".into()
            )
        );
        assert_eq!(
            parse_address(r#""Bob"<sip:bob@example.com>"#).unwrap(),
            (Some("Bob".into()), "sip:bob@example.com".into())
        );
        assert_eq!(
            parse_address("<sip:anonymous@anonymous.invalid>").unwrap(),
            (None, "sip:anonymous@anonymous.invalid".into())
        );
    }

    #[test]
    fn rejects_broken_addresses() {
        for value in [
            "",
            "Alice",
            "<>",
            "<sip:a@b",
            "<sip:a@b>;tag=1",
            "\"unclosed <sip:a@b>",
            "<sip:a b@c>",
            "\"Alice\" junk <sip:a@b>",
        ] {
            assert!(parse_address(value).is_err(), "accepted {value:?}");
        }
    }

    #[test]
    fn formatted_addresses_read_back() {
        let nasty = "Eve\r\nBcc: victim \"x\" \\";
        let value = format_address(Some(nasty), "mailto:eve@example.com").unwrap();
        assert!(!value.contains('\r') && !value.contains('\n'));
        let (name, uri) = parse_address(&value).unwrap();
        assert_eq!(name.as_deref(), Some(nasty));
        assert_eq!(uri, "mailto:eve@example.com");
        assert_eq!(format_address(None, "im:a@b").unwrap(), "<im:a@b>");
        assert!(format_address(None, "im:a@b>\r\nX: y").is_err());
    }

    #[test]
    fn scans_parameters() {
        assert_eq!(
            scan_parameters(";lang=fr beau"),
            Ok((8, vec![("lang", "fr")]))
        );
        assert_eq!(
            scan_parameters(";lang=fr;x=\"a b\" v"),
            Ok((16, vec![("lang", "fr"), ("x", "\"a b\"")]))
        );
        assert_eq!(scan_parameters("no params"), Ok((0, vec![])));
        assert!(scan_parameters(";=fr x").is_err());
        assert!(scan_parameters(";lang x").is_err());
        assert!(scan_parameters(";lang= x").is_err());
        assert!(scan_parameters(";lang=f<r x").is_err());
    }
}
