//! `imdn.Message-ID` values (RFC 5438 §6.3).

use super::ImdnError;
use crate::cpim::is_token;

/// Checks an IMDN Message-ID.
///
/// RFC 5438's header grammar is `Message-ID = "Message-ID" ": " Token`, with
/// `Token` from RFC 3862 §3.6: one or more of ALPHA, DIGIT,
/// `! # $ % & ' * + - . ^ _ \` | ~` or non-ASCII UTF-8. The grammar sets
/// no length limit, so none is imposed here. Tokens exclude whitespace,
/// quotes and angle
/// brackets, so a valid id is safe in a CPIM header line and, escaped, in
/// XML.
pub fn validate_message_id(message_id: &str) -> Result<(), ImdnError> {
    if is_token(message_id) {
        Ok(())
    } else {
        Err(ImdnError::InvalidMessageId(message_id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_tokens() {
        for id in ["34jk324j", "d834jied93rf", "a.b-c_d~e", "Ä1", "x&y'z"] {
            assert!(validate_message_id(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn rejects_non_tokens() {
        for id in [
            "",
            "a b",
            "<34jk324j>",
            "a\"b",
            "a\r\nb",
            "a;b",
            "a,b",
            "a@b",
            "a:b",
            "a\u{85}b",
            "a\u{2028}b",
        ] {
            assert!(validate_message_id(id).is_err(), "{id:?}");
        }
    }
}
