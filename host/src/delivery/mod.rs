//! Mail out (SPEC S3 steps 2–4): find the recipient's MX hosts in DNS,
//! hand the mail to the first that takes it, and say what happened in terms
//! that decide the SIP answer (delivered, permanent, temporary).

mod mx;
mod outcome;
mod smtp;

pub use mx::{MxHost, MxResolver};
pub use outcome::{DeliveryOutcome, SmtpFailure};
pub use smtp::Deliverer;
