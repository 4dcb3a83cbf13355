//! E-mail wire formats: reading received mail into the plugin contract
//! (`incoming`), and building the RFC 5322 / MIME mail that the conversion
//! plugin described (`outgoing`), and the delivery status notifications
//! the gateway writes itself (`dsn`).

pub mod dsn;
pub mod incoming;
mod outgoing;

pub use outgoing::{MailError, OutgoingMail, build};
