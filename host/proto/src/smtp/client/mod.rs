//! The SMTP client's wire format, sans-IO: the replies it reads
//! (`parse`), what an EHLO reply offers (`Extensions`), the commands it
//! writes (`write`) with the parameters of SIZE, 8BITMIME, SMTPUTF8 and
//! DSN, and the message after DATA (`write_data`). The gateway's
//! `smtp/client` drives them over TCP and TLS.

mod command;
mod extensions;
mod response;

pub use command::{Command, MailFrom, RcptTo, write, write_data};
pub use extensions::Extensions;
pub use response::{EnhancedCode, MAX_LINE, MAX_LINES, ReplyError, Response, parse};

#[cfg(test)]
mod tests;
