//! The SMTP server (RFC 5321): the MX of the gateway's domains. The session
//! is a sans-IO state machine (`session`); the listener drives it over TCP.

mod listener;
mod reply;
mod session;

pub use listener::{MailSink, SmtpServer, Timeouts, tls_acceptor};
pub use reply::Reply;
pub use session::{Capabilities, Output, RecipientCheck, SmtpSession, Transaction};

#[cfg(test)]
mod tests;
