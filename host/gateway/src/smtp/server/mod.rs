//! The SMTP server (RFC 5321): the MX of the gateway's domains. The session
//! is the sans-IO state machine of `interwork_proto::smtp`; the listener
//! drives it over TCP.

mod listener;

pub use interwork_proto::smtp::{
    Capabilities, Output, RecipientCheck, Reply, SmtpSession, Transaction,
};
pub use listener::{MailSink, SmtpServer, Timeouts, tls_acceptor};
