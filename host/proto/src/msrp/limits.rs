//! Resource limits applied while parsing frames.

/// Bounds on what [`parse`](super::parse) accepts, so a peer can neither make
/// us buffer without end nor wait forever for an end-line that never comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum bytes of start line, header fields and the blank line before the body.
    pub max_header_bytes: usize,
    /// Maximum number of header field lines.
    pub max_headers: usize,
    /// Maximum body bytes of one SEND chunk. Non-SEND bodies are further capped
    /// at 10240 bytes by RFC 4975 §7.1.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    /// 8 KiB of headers, 32 header fields, 64 KiB of body.
    ///
    /// * 8 KiB: a header section with several relay URIs in each path and the
    ///   RFC 4976 authentication fields stays well under 2 KiB; 8 KiB leaves room
    ///   for extensions while keeping the per-frame scan small.
    /// * 32 fields: RFC 4975 and RFC 4976 together define about 15 header fields,
    ///   plus a few MIME ones (Content-ID, Content-Description, …).
    /// * 64 KiB: RFC 4975 has no chunk size limit and some clients put a whole
    ///   small file in one chunk; the gateway itself sends 2 KiB chunks. 64 KiB
    ///   per connection is generous for instant messages yet bounded.
    fn default() -> Self {
        Self {
            max_header_bytes: 8 * 1024,
            max_headers: 32,
            max_body_bytes: 64 * 1024,
        }
    }
}
