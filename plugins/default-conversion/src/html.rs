//! HTML to readable plain text, for mails that have no text part.
//!
//! Not a browser: it drops markup, `<script>` and `<style>`, turns block
//! ends and `<br>` into line breaks, and decodes character references (every
//! named entity of HTML5 and numeric ones, with the `html-escape` crate).
//! That is what a person reading an IM needs of a mail written as HTML.

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

/// Appends text between tags: entities decoded (`caf&eacute;` → `café`),
/// then white space collapsed as HTML renders it; a no-break space is a
/// space in an IM.
fn push_text(out: &mut String, text: &str) {
    let decoded = html_escape::decode_html_entities(text);
    for c in decoded.chars() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with([' ', '\n']) {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}
