//! SMTP (RFC 5321) sans-IO, both sides. The server session is a state
//! machine over bytes: commands and DATA in, replies and complete
//! transactions out. Command parsing and dot-unstuffing are Stalwart's
//! `smtp-proto`; the policy (one recipient per transaction, size limit,
//! STARTTLS reset, error budget) is ours. The gateway's listener drives it
//! over TCP and TLS. `client` is the other side's wire format: replies
//! read, commands and the message written. `dsn` holds what both share of
//! the DSN extension (RFC 3461).

pub mod client;
mod dsn;
mod reply;
mod session;

pub use dsn::{Dsn, MAX_ENVID, Notify, RecipientDsn, Ret, write_xtext, xtext};
pub use reply::Reply;
pub use session::{Capabilities, MAX_RECIPIENTS, Output, RecipientCheck, SmtpSession, Transaction};

#[cfg(test)]
mod tests;
