//! A MIME entity as a tree (RFC 2045 §2.4, RFC 2046 §5.1): the content of
//! an IM that is `multipart/mixed`, `multipart/related` or
//! `multipart/alternative` (RCS standalone messaging and many clients send
//! text with an image that way), with its parts nested as they were, each
//! with its file name, `Content-ID` and language.
//!
//! [`parse`] reads a body as the IM side sent it: transfer-decoded, nested
//! multiparts split. [`write`] writes the tree back in one canonical form:
//! every leaf binary, without a `Content-Transfer-Encoding` (SIP and MSRP
//! bodies are 8-bit clean), and fresh boundaries. That form is what
//! plugins see and what the mail writer reads. The header fields of each
//! part are read by mail-parser (RFC 2231 parameters, RFC 2047 words).

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

use super::{is_token, media_type, multipart, one_line};

/// Deepest nesting of multiparts taken: a message is a multipart holding
/// an alternative holding a related, rarely more.
pub const MAX_DEPTH: usize = 8;

/// Most leaves in one entity.
pub const MAX_PARTS: usize = 100;

/// One entity: a leaf with its content, or a multipart with its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// `type/subtype` in lower case with its parameters, quoted; a
    /// multipart's without its `boundary` (each writer makes its own).
    pub content_type: String,
    /// `inline` / `attachment` (lower case), when the part said.
    pub disposition: Option<String>,
    /// The file name (`filename` or `name`, RFC 2231 decoded).
    pub filename: Option<String>,
    /// `Content-ID` without its angle brackets (RFC 2392).
    pub content_id: Option<String>,
    /// `Content-Language` (RFC 3282), as written.
    pub language: Option<String>,
    /// The content.
    pub body: Body,
}

/// What an entity holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A leaf's content, transfer-decoded.
    Leaf(Vec<u8>),
    /// A multipart's parts, in order.
    Parts(Vec<Entity>),
}

impl Entity {
    /// The media type, `multipart/related`.
    pub fn media_type(&self) -> String {
        media_type(&self.content_type)
    }

    /// The leaves, depth first, in order.
    pub fn leaves(&self) -> Vec<&Entity> {
        match &self.body {
            Body::Leaf(_) => vec![self],
            Body::Parts(parts) => parts.iter().flat_map(Entity::leaves).collect(),
        }
    }
}

/// Why a body is not a MIME entity the gateway takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntityError {
    /// A multipart without a usable `boundary` parameter.
    #[error("{0} without a boundary")]
    NoBoundary(String),
    /// The parts cannot be told apart.
    #[error(transparent)]
    Split(#[from] multipart::SplitError),
    /// A multipart with no part (RFC 2046 §5.1.1 asks for one at least).
    #[error("{0} with no part")]
    Empty(String),
    /// A part's header block cannot be read.
    #[error("a part's header fields cannot be read")]
    Headers,
    /// A transfer encoding other than 7bit, 8bit, binary, base64 and
    /// quoted-printable (RFC 2045 §6.1).
    #[error("unknown Content-Transfer-Encoding {0:?}")]
    Encoding(String),
    /// A base64 or quoted-printable part that does not decode.
    #[error("a {0} part does not decode")]
    Decode(&'static str),
    /// Nested deeper than [`MAX_DEPTH`].
    #[error("multiparts nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// More than [`MAX_PARTS`] leaves.
    #[error("more than {MAX_PARTS} parts")]
    TooManyParts,
}

/// Reads a body of `content_type` (a `multipart/*` one, else the entity
/// is one leaf) as an entity tree.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Entity, EntityError> {
    let mut leaves = 0;
    let head = format!("Content-Type: {content_type}");
    entity(head.as_bytes(), body, 0, &mut leaves)
}

fn entity(
    head: &[u8],
    body: &[u8],
    depth: usize,
    leaves: &mut usize,
) -> Result<Entity, EntityError> {
    // mail-parser reads a header block that ends in an empty line.
    let mut block = Vec::with_capacity(head.len() + 4);
    block.extend_from_slice(head);
    block.extend_from_slice(b"\r\n\r\n");
    let parsed = if head.is_empty() {
        None
    } else {
        Some(
            MessageParser::new()
                .parse_headers(&block)
                .ok_or(EntityError::Headers)?,
        )
    };
    let part = parsed.as_ref().map(|m| &m.parts[0]);
    // RFC 2046 §5.1.1: a part without a Content-Type is plain US-ASCII text
    // (in a multipart/digest, message/rfc822, never sent by IM clients).
    let (content_type, boundary) = match part.and_then(|p| p.content_type()) {
        Some(ct) => written_type(ct),
        None => ("text/plain".to_string(), None),
    };
    let disposition = part.and_then(|p| p.content_disposition());
    let filename = part
        .and_then(|p| p.attachment_name())
        .map(one_line)
        .filter(|n| !n.is_empty());
    let content_id = part
        .and_then(|p| p.content_id())
        .map(|id| one_line(id).trim_matches(['<', '>', ' ']).to_string())
        // RFC 2392 / RFC 5322 §3.6.4: a msg-id is printable US-ASCII; one
        // that is not cannot be referred to by a `cid:` URL anyway.
        .filter(|id| {
            !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
        });
    // RFC 3282: language tags (letters, digits, hyphens), comma-separated.
    let language = part
        .and_then(|p| match p.content_language() {
            HeaderValue::Text(text) => Some(one_line(text).trim().to_string()),
            HeaderValue::TextList(list) => Some(one_line(&list.join(", ")).trim().to_string()),
            _ => None,
        })
        .filter(|l| {
            !l.trim().is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-, ".contains(&b))
        });
    // A part with a file name and no (readable) disposition is an
    // attachment (RFC 2183 §2.8: unknown types are treated as attachment).
    let disposition = disposition
        .map(|d| d.ctype().to_ascii_lowercase())
        .filter(|d| is_token(d))
        .or_else(|| filename.as_ref().map(|_| "attachment".to_string()));
    let mut entity = Entity {
        content_type,
        disposition,
        filename,
        content_id,
        language,
        body: Body::Leaf(Vec::new()),
    };
    if entity.media_type().starts_with("multipart/") {
        if depth >= MAX_DEPTH {
            return Err(EntityError::TooDeep);
        }
        let boundary = boundary.ok_or_else(|| EntityError::NoBoundary(entity.media_type()))?;
        let raw = multipart::split(body, &boundary)?;
        if raw.is_empty() {
            return Err(EntityError::Empty(entity.media_type()));
        }
        let parts = raw
            .into_iter()
            .map(|raw| self::entity(raw.head, raw.body, depth + 1, leaves))
            .collect::<Result<Vec<_>, _>>()?;
        entity.body = Body::Parts(parts);
        return Ok(entity);
    }
    *leaves += 1;
    if *leaves > MAX_PARTS {
        return Err(EntityError::TooManyParts);
    }
    let encoding = part
        .and_then(|p| p.content_transfer_encoding())
        .map(|e| e.trim().to_ascii_lowercase());
    let decoded = match encoding.as_deref() {
        None | Some("7bit" | "8bit" | "binary") => body.to_vec(),
        Some("base64") => mail_parser::decoders::base64::base64_decode(body)
            .ok_or(EntityError::Decode("base64"))?,
        Some("quoted-printable") => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
                .ok_or(EntityError::Decode("quoted-printable"))?
        }
        Some(other) => return Err(EntityError::Encoding(other.to_string())),
    };
    entity.body = Body::Leaf(decoded);
    Ok(entity)
}

/// The `Content-Type` as the tree keeps it (lower-case type, parameters
/// quoted, no `boundary`) and the boundary.
fn written_type(ct: &mail_parser::ContentType<'_>) -> (String, Option<String>) {
    let (top, sub) = (ct.ctype(), ct.subtype().unwrap_or_default());
    if !is_token(top) || !is_token(sub) {
        // RFC 2045 §5.2: a Content-Type that cannot be read is the default.
        return ("text/plain".to_string(), None);
    }
    let mut text = format!("{top}/{sub}").to_ascii_lowercase();
    let mut boundary = None;
    for attr in ct.attributes().unwrap_or_default() {
        if attr.name.eq_ignore_ascii_case("boundary") {
            boundary = Some(attr.value.to_string()).filter(|b| !b.is_empty() && b.len() <= 70);
        } else if is_token(&attr.name) {
            let value = one_line(&attr.value).replace(['"', '\\'], "");
            if value.is_empty() {
                // `charset=""` says nothing, and is not read back.
                continue;
            }
            text.push_str(&format!("; {}=\"{value}\"", attr.name.to_ascii_lowercase()));
        }
    }
    (text, boundary)
}

/// Why an entity cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct WriteError(#[from] multipart::MultipartError);

/// Writes an entity in the canonical form (module docs): its body, and
/// the `Content-Type` (with the boundary) to send it with. Every boundary
/// starts with `seed`, and is made longer until it occurs in none of its
/// parts (RFC 2046 §5.1.1).
pub fn write(entity: &Entity, seed: &str, out: &mut Vec<u8>) -> Result<String, WriteError> {
    let parts = match &entity.body {
        Body::Leaf(body) => {
            out.extend_from_slice(body);
            return Ok(entity.content_type.clone());
        }
        Body::Parts(parts) => parts,
    };
    let mut written = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let mut bytes = Vec::new();
        let content_type = write(part, &format!("{seed}.{i}"), &mut bytes)?;
        let mut head = Vec::new();
        let out_part = multipart::OutPart {
            content_type: &content_type,
            disposition: part.disposition.as_deref(),
            filename: part.filename.as_deref(),
            content_id: part.content_id.as_deref(),
            body: &[],
        };
        multipart::write_part_head(&out_part, part.language.as_deref(), &mut head)?;
        written.push((head, bytes));
    }
    // `=_seed_=`: a nested part's boundary (`=_seed.0_=`) never holds it.
    let mut boundary = format!("=_{seed}_=");
    while written.iter().any(|(head, body)| {
        let found = |bytes: &[u8]| memchr::memmem::find(bytes, boundary.as_bytes()).is_some();
        found(head) || found(body)
    }) {
        if boundary.len() >= 70 {
            return Err(WriteError(multipart::MultipartError::Boundary));
        }
        boundary.insert(boundary.len() - 2, '_');
    }
    for (head, body) in &written {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(head);
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    Ok(format!("{}; boundary=\"{boundary}\"", entity.content_type))
}

#[cfg(test)]
mod tests;
