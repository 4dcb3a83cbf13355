//! Receipts that cross the gateway (issue 10): each side's native
//! notification becomes the other side's.
//!
//! * IM → mail: an IM's IMDN delivery request becomes DSN `NOTIFY=` on the
//!   mail's envelope (the SMTP client); the DSNs (RFC 3464) and MDNs
//!   (RFC 8098) that come back, and the spool giving a mail up, become IMDN
//!   delivery and display notifications (RFC 5438) to the IM's sender
//!   ([`to_im`], written by [`imdn_out`]).
//! * Mail → IM: an IMDN from the IM side about an IM made from a mail
//!   becomes a success DSN or an MDN for the mail's sender, when the mail
//!   asked for one ([`to_mail`]), at most once per message.
//!
//! Notifications are never notified in turn: a DSN or MDN goes out from the
//! null reverse-path, an IMDN asks for no IMDN, and a notification about a
//! message the store does not know (or no longer knows) is dropped with a
//! log line, never turned into a chat or a mail.

pub mod imdn_out;
pub mod to_im;
pub mod to_mail;
