//! HTML to readable plain text, for mails that have no text part.
//!
//! Not a browser: it drops markup, `<script>` and `<style>`, turns block
//! ends and `<br>` into line breaks, and decodes the common entities. That
//! is what a person reading an IM needs of a mail written as HTML.

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
];

pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        push_text(&mut out, &rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[..end].trim();
        rest = &after[end + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !closing && (name == "script" || name == "style") {
            let close = format!("</{name}");
            rest = match find_ignore_case(rest, &close) {
                Some(i) => rest[i..].find('>').map_or("", |j| &rest[i + j + 1..]),
                None => "",
            };
            continue;
        }
        if name == "br" || (closing && BLOCKS.contains(&name.as_str())) {
            newline(&mut out);
        }
    }
    push_text(&mut out, rest);
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    lines.join("\n").trim().to_string()
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .to_ascii_lowercase()
        .find(&needle.to_ascii_lowercase())
}

fn newline(out: &mut String) {
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// Appends text between tags: white space collapsed as HTML renders it,
/// entities decoded.
fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while !rest.is_empty() {
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with([' ', '\n']) {
                out.push(' ');
            }
            rest = &rest[c.len_utf8()..];
        } else if c == '&' {
            let (decoded, used) = decode_entity(rest);
            out.push_str(&decoded);
            rest = &rest[used..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
}

fn decode_entity(text: &str) -> (String, usize) {
    // ';' is ASCII, so its byte position is a char boundary.
    let Some(end) = text.bytes().take(12).position(|b| b == b';') else {
        return ("&".into(), 1);
    };
    let name = &text[1..end];
    let named = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => None,
    };
    let numeric = || {
        let num = name.strip_prefix('#')?;
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(code)
    };
    match named.or_else(numeric) {
        Some(c) => (c.to_string(), end + 1),
        None => ("&".into(), 1),
    }
}
