//! Mail out (SPEC S3 steps 2–4): find the recipient's MX hosts in DNS,
//! hand the mail to the first that takes it, and say what happened in terms
//! that decide the SIP answer (delivered, permanent, temporary).

mod limit;
mod mx;
mod outcome;
mod transport;

pub use limit::PerDomainLimit;
pub use mx::{MxHost, MxLookup, MxResolver, NoRoute};
pub use outcome::{DeliveryOutcome, SmtpFailure};
pub use transport::Deliverer;

use crate::BoxFuture;
use crate::mail::OutgoingMail;

/// Handing one mail to the recipient's mail system: what the IM → e-mail
/// direction needs of the SMTP client. [`Deliverer`] does it by DNS MX and
/// SMTP; tests give an in-memory mail system instead.
pub trait MailDelivery: Send + Sync {
    /// Delivers `mail` and says how it went.
    fn deliver<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, DeliveryOutcome>;
}

#[cfg(test)]
mod tests;
