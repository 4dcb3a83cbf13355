//! The SMTP server session (RFC 5321) as a state machine over bytes:
//! commands and DATA in, replies and complete transactions out. Command
//! parsing and dot-unstuffing are Stalwart's `smtp-proto`; the policy (one
//! recipient per transaction, size limit, STARTTLS reset, error budget) is
//! ours. The gateway's listener drives it over TCP and TLS.

mod reply;
mod session;

pub use reply::Reply;
pub use session::{Capabilities, Output, RecipientCheck, SmtpSession, Transaction};

#[cfg(test)]
mod tests;
