//! SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463).

use std::fmt;

/// One reply: a code, an enhanced status code and text. Multi-line
/// replies (EHLO) are written by the session itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Basic reply code.
    pub code: u16,
    /// `class.subject.detail`, e.g. `5.1.1`; none for 220/221 greetings.
    pub enhanced: Option<&'static str>,
    /// Human-readable text.
    pub text: String,
}

impl Reply {
    /// A reply with an enhanced status code.
    pub fn new(code: u16, enhanced: &'static str, text: impl Into<String>) -> Self {
        Self {
            code,
            enhanced: Some(enhanced),
            text: text.into(),
        }
    }

    /// A reply without one (greetings, 354).
    pub fn plain(code: u16, text: impl Into<String>) -> Self {
        Self {
            code,
            enhanced: None,
            text: text.into(),
        }
    }

    /// Whether the reply accepts (2xx/3xx).
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// The reply on the wire. Text from elsewhere (a SIP reason phrase)
    /// must not break the line: CR and LF become spaces.
    pub fn to_bytes(&self) -> Vec<u8> {
        let text: String = self
            .text
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        match self.enhanced {
            Some(enhanced) => format!("{} {enhanced} {text}\r\n", self.code),
            None => format!("{} {text}\r\n", self.code),
        }
        .into_bytes()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(String::from_utf8_lossy(&self.to_bytes()).trim_end())
    }
}
