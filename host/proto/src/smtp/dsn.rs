//! The DSN extension's envelope parameters (RFC 3461 §4), as both sides of
//! the gateway see them: the server keeps what a client asked for on its
//! `Transaction`, the client writes them on MAIL and RCPT.

use std::fmt;

/// `NOTIFY=` on RCPT (RFC 3461 §4.1): when the recipient's mail system
/// should send a DSN. All three false is `NEVER`, so `NEVER` combined
/// with another keyword (a syntax error, §4.1) cannot be expressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Notify {
    /// `SUCCESS`: on delivery.
    pub success: bool,
    /// `FAILURE`: when it fails.
    pub failure: bool,
    /// `DELAY`: when it is delayed.
    pub delay: bool,
}

impl Notify {
    /// `NOTIFY=NEVER`.
    pub const NEVER: Self = Self {
        success: false,
        failure: false,
        delay: false,
    };

    /// Whether this is `NEVER`.
    pub fn is_never(self) -> bool {
        self == Self::NEVER
    }
}

impl fmt::Display for Notify {
    /// The parameter value: `NEVER`, or the keywords asked for in the order
    /// of RFC 3461 §4.1 (`SUCCESS,FAILURE,DELAY`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            return f.write_str("NEVER");
        }
        let words = [
            (self.success, "SUCCESS"),
            (self.failure, "FAILURE"),
            (self.delay, "DELAY"),
        ];
        let mut first = true;
        for (_, word) in words.iter().filter(|(on, _)| *on) {
            if !first {
                f.write_str(",")?;
            }
            f.write_str(word)?;
            first = false;
        }
        Ok(())
    }
}

/// `RET=` on MAIL (RFC 3461 §4.3): what a failure DSN returns of the
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ret {
    /// `FULL`: the whole message.
    Full,
    /// `HDRS`: its header section only.
    Hdrs,
}

impl Ret {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Ret::Full => "FULL",
            Ret::Hdrs => "HDRS",
        }
    }
}

/// What one recipient's RCPT asked of DSNs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientDsn {
    /// `NOTIFY=`; `None` when not given (RFC 3461 §4.1: the server then
    /// behaves as for `FAILURE,DELAY`).
    pub notify: Option<Notify>,
    /// `ORCPT=rfc822;…`, xtext-decoded: the address the original sender
    /// gave (§4.2). Only the `rfc822` address type is taken.
    pub orcpt: Option<String>,
}

/// What a transaction asked of DSNs (RFC 3461 §4); all empty when the
/// client sent no DSN parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    /// `ENVID=` on MAIL, xtext-decoded (§4.4): the sender's identifier of
    /// the transaction, returned in every DSN as `Original-Envelope-Id`.
    pub envid: Option<String>,
    /// `RET=` on MAIL (§4.3).
    pub ret: Option<Ret>,
    /// One per forward-path of the transaction's `rcpt_to`, same order.
    pub recipients: Vec<RecipientDsn>,
}

/// RFC 3461 §4: the longest ENVID, in characters of its xtext form.
pub const MAX_ENVID: usize = 100;

/// Appends `value` as xtext (RFC 3461 §4): printable US-ASCII except `+`
/// and `=` as is, every other octet (of its UTF-8) as `+` and two
/// upper-case hexadecimal digits.
pub fn write_xtext(value: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'+', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// `value` as xtext, in a string.
pub fn xtext(value: &str) -> String {
    let mut out = Vec::with_capacity(value.len());
    write_xtext(value, &mut out);
    // Only printable ASCII is written.
    String::from_utf8(out).unwrap_or_default()
}
