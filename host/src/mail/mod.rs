//! E-mail wire formats: building the RFC 5322 / MIME mail that the
//! conversion plugin described (`outgoing`).

mod outgoing;

pub use outgoing::{MailError, OutgoingMail, build};
