//! E-mail wire formats: reading received mail into the plugin contract
//! (`incoming`), and building the RFC 5322 / MIME mail that the conversion
//! plugin described (`outgoing`), and the delivery status and message disposition
//! notifications the gateway writes itself (`dsn`, `mdn`, one `notice` shape).

pub mod dsn;
pub mod incoming;
pub mod mdn;
mod notice;
mod outgoing;

pub use outgoing::{MailError, OutgoingMail, build};
