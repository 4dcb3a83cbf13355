//! The commands the client sends (RFC 5321 §4.1.1) with the parameters of
//! the extensions it uses, and the message after DATA, dot-stuffed.

use crate::smtp::{Notify, Ret, write_xtext};

/// `MAIL FROM:<reverse-path>` and its parameters. Each parameter is for
/// the caller to send only when the server offered its extension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailFrom<'a> {
    /// Without angle brackets; empty for the null reverse-path `<>` of
    /// notifications (RFC 5321 §4.5.5).
    pub reverse_path: &'a str,
    /// `SIZE=` (RFC 1870 §6): the message's size in octets.
    pub size: Option<u64>,
    /// `BODY=8BITMIME` (RFC 6152 §2).
    pub eight_bit_mime: bool,
    /// `SMTPUTF8` (RFC 6531 §3.4).
    pub smtputf8: bool,
    /// `RET=` (RFC 3461 §4.3).
    pub ret: Option<Ret>,
    /// `ENVID=`, written as xtext (RFC 3461 §4.4).
    pub envid: Option<&'a str>,
}

/// `RCPT TO:<forward-path>` and its DSN parameters (RFC 3461 §4.1, §4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcptTo<'a> {
    /// Without angle brackets.
    pub forward_path: &'a str,
    /// `NOTIFY=`.
    pub notify: Option<Notify>,
    /// `ORCPT=rfc822;` and the address as xtext.
    pub orcpt: Option<&'a str>,
}

/// A command of the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `EHLO domain`.
    Ehlo(&'a str),
    /// `HELO domain`, for a server that refuses EHLO (RFC 5321 §3.2).
    Helo(&'a str),
    /// `STARTTLS` (RFC 3207 §4).
    StartTls,
    /// `MAIL FROM:`.
    Mail(MailFrom<'a>),
    /// `RCPT TO:`.
    Rcpt(RcptTo<'a>),
    /// `DATA`.
    Data,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
}

/// Appends one command line, CRLF included. Addresses and the EHLO name
/// are written as given: they come from the gateway's own configuration
/// and mapping, and the caller refuses CR and LF in them.
pub fn write(command: &Command<'_>, out: &mut Vec<u8>) {
    match command {
        Command::Ehlo(domain) => {
            out.extend_from_slice(b"EHLO ");
            out.extend_from_slice(domain.as_bytes());
        }
        Command::Helo(domain) => {
            out.extend_from_slice(b"HELO ");
            out.extend_from_slice(domain.as_bytes());
        }
        Command::StartTls => out.extend_from_slice(b"STARTTLS"),
        Command::Mail(mail) => {
            out.extend_from_slice(b"MAIL FROM:<");
            out.extend_from_slice(mail.reverse_path.as_bytes());
            out.push(b'>');
            if let Some(size) = mail.size {
                out.extend_from_slice(format!(" SIZE={size}").as_bytes());
            }
            if mail.eight_bit_mime {
                out.extend_from_slice(b" BODY=8BITMIME");
            }
            if mail.smtputf8 {
                out.extend_from_slice(b" SMTPUTF8");
            }
            if let Some(ret) = mail.ret {
                out.extend_from_slice(b" RET=");
                out.extend_from_slice(ret.as_str().as_bytes());
            }
            if let Some(envid) = mail.envid {
                out.extend_from_slice(b" ENVID=");
                write_xtext(envid, out);
            }
        }
        Command::Rcpt(rcpt) => {
            out.extend_from_slice(b"RCPT TO:<");
            out.extend_from_slice(rcpt.forward_path.as_bytes());
            out.push(b'>');
            if let Some(notify) = rcpt.notify {
                out.extend_from_slice(format!(" NOTIFY={notify}").as_bytes());
            }
            if let Some(orcpt) = rcpt.orcpt {
                out.extend_from_slice(b" ORCPT=rfc822;");
                write_xtext(orcpt, out);
            }
        }
        Command::Data => out.extend_from_slice(b"DATA"),
        Command::Rset => out.extend_from_slice(b"RSET"),
        Command::Noop => out.extend_from_slice(b"NOOP"),
        Command::Quit => out.extend_from_slice(b"QUIT"),
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends the message that follows a 354 (RFC 5321 §4.1.1.4): each line
/// that starts with `.` gets one more (§4.5.2), line ends stay as they
/// are, and the end of data `.` CRLF follows, with a CRLF before it only
/// when the message does not end in one. A line start is the start of the
/// message and every byte after an LF, so a bare LF (which the gateway
/// does not write, but a server may take for a line end) cannot end the
/// data early either.
pub fn write_data(message: &[u8], out: &mut Vec<u8>) {
    // Room for the message, a few stuffed dots and the terminator.
    out.reserve(message.len() + message.len() / 256 + 5);
    let mut rest = message;
    while !rest.is_empty() {
        if rest[0] == b'.' {
            out.push(b'.');
        }
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |lf| lf + 1);
        out.extend_from_slice(&rest[..end]);
        rest = &rest[end..];
    }
    if !message.is_empty() && !message.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
}
