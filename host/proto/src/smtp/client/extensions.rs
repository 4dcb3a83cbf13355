//! What a server offers in its EHLO reply (RFC 5321 §4.1.1.1): the
//! service extensions the gateway's client uses.

use super::Response;

/// The extensions of one EHLO reply that the client acts on; all off after
/// HELO (RFC 5321 §3.2: no extensions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    /// `SIZE` (RFC 1870): `Some(limit)` when offered, `Some(0)` when no
    /// limit was given (§4: 0 or no parameter means none is in force).
    pub size: Option<u64>,
    /// `PIPELINING` (RFC 2920).
    pub pipelining: bool,
    /// `8BITMIME` (RFC 6152).
    pub eight_bit_mime: bool,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `STARTTLS` (RFC 3207).
    pub starttls: bool,
    /// `DSN` (RFC 3461).
    pub dsn: bool,
    /// `ENHANCEDSTATUSCODES` (RFC 2034).
    pub enhanced_status_codes: bool,
}

impl Extensions {
    /// The extensions of a 250 reply to EHLO: each line after the first
    /// (the server's name and greeting) is a keyword and its parameters,
    /// keywords in any case (RFC 5321 §4.1.1.1). Unknown keywords and a
    /// SIZE whose parameter is not a number are ignored.
    pub fn of_ehlo(reply: &Response) -> Self {
        let mut ext = Self::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "SIZE" => match words.next().map(str::parse::<u64>) {
                    None => ext.size = Some(0),
                    Some(Ok(limit)) => ext.size = Some(limit),
                    Some(Err(_)) => {}
                },
                "PIPELINING" => ext.pipelining = true,
                "8BITMIME" => ext.eight_bit_mime = true,
                "SMTPUTF8" => ext.smtputf8 = true,
                "STARTTLS" => ext.starttls = true,
                "DSN" => ext.dsn = true,
                "ENHANCEDSTATUSCODES" => ext.enhanced_status_codes = true,
                _ => {}
            }
        }
        ext
    }
}
