//! Mail out (SPEC S3 steps 2–4): find the recipient's MX hosts in DNS,
//! hand the mail to the first that takes it, and say what happened in terms
//! that decide the SIP answer (delivered, permanent, temporary). The SMTP
//! client is ours: `connection` (one session over TCP or TLS), `tls`
//! (opportunistic STARTTLS), `transaction` (one mail: MAIL, RCPT, DATA,
//! pipelined, with DSN parameters), `pool` (idle sessions per server),
//! `deliverer` (the MX walk and the deadline), on the wire format of
//! `interwork_proto::smtp::client`.

mod connection;
mod deliverer;
mod limit;
mod mx;
mod outcome;
mod pool;
mod tls;
mod transaction;

pub use deliverer::Deliverer;
pub use limit::PerDomainLimit;
pub use mx::{MxHost, MxLookup, MxResolver, NoRoute};
pub use outcome::{DeliveryOutcome, SmtpFailure};

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
