//! Admission: how many messages this node holds at once, decided before any
//! work is spent on a new one.
//!
//! Every message that arrives (a SIP MESSAGE, an INVITE's session, an MSRP
//! message, a mail) takes a [`Ticket`] before it is parsed further, and
//! keeps it until its sender is answered and its first delivery attempt is
//! over (in the background, past the first-attempt budget). When all
//! tickets are out, the newcomer is answered at once — SIP `503` with
//! `Retry-After`, SMTP `451 4.3.2` — for the cost of that answer.
//!
//! Why a count and not a rate: under overload a gateway that takes every
//! request shares its CPU among all of them, every answer comes late, the
//! IM side retransmits (RFC 3261 §17.1.2.2: after T1 = 500 ms) and the
//! retransmissions are more load. Measured before this existed: offered
//! 10 % past capacity, a quarter of capacity was delivered. Bounding what
//! is in flight bounds the latency of what was taken (at most the limit
//! divided by the throughput), so the taken ones finish before T1 and the
//! rest are told to come back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::BoxFuture;
use crate::outcome::{About, Kind, Verdict};

/// The messages a node holds at once, and what it tells the senders of the
/// rest.
#[derive(Debug)]
pub struct Admission {
    in_flight: AtomicUsize,
    /// Changed by a reload; a lower limit takes no ticket back, it only
    /// lets fewer new ones out until the count is under it.
    limit: AtomicUsize,
    retry_after_secs: AtomicU32,
}

/// One admitted message. Dropping it lets the next one in.
#[derive(Debug)]
pub struct Ticket(Arc<Admission>);

impl Ticket {
    /// `work` keeping the ticket until it is over: a first delivery attempt
    /// that goes on in the background past its budget still counts.
    pub fn hold<T: Send + 'static>(self, work: BoxFuture<'static, T>) -> BoxFuture<'static, T> {
        Box::pin(async move {
            let done = work.await;
            drop(self);
            done
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    /// At most `limit` messages at once; the others hear "retry after
    /// `retry_after_secs`".
    pub fn new(limit: usize, retry_after_secs: u32) -> Arc<Self> {
        Arc::new(Self {
            in_flight: AtomicUsize::new(0),
            limit: AtomicUsize::new(limit.max(1)),
            retry_after_secs: AtomicU32::new(retry_after_secs),
        })
    }

    /// New limits (a reload of `[limits]`).
    pub fn set_limits(&self, limit: usize, retry_after_secs: u32) {
        self.limit.store(limit.max(1), Ordering::Release);
        self.retry_after_secs
            .store(retry_after_secs, Ordering::Release);
    }

    /// The limit now.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Acquire)
    }

    /// No limit that matters: for tests and the one-shot commands.
    pub fn unlimited() -> Arc<Self> {
        Self::new(usize::MAX, 1)
    }

    /// A ticket for one more message, or the verdict its sender hears.
    pub fn admit(self: &Arc<Self>) -> Result<Ticket, Verdict> {
        self.try_admit().ok_or_else(|| self.overloaded())
    }

    /// A ticket for one more, or nothing: for a caller that words its own
    /// refusal (the SIP endpoint's 503).
    pub fn try_admit(self: &Arc<Self>) -> Option<Ticket> {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit()).then_some(n + 1)
            })
            .ok()
            .map(|_| Ticket(self.clone()))
    }

    /// Whether a new message would be refused now (SMTP asks at RCPT, so
    /// that a client is not made to send a body that is then refused).
    pub fn full(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) >= self.limit()
    }

    /// The `Retry-After` its refusals carry, in seconds.
    pub fn retry_after_secs(&self) -> u32 {
        self.retry_after_secs.load(Ordering::Acquire)
    }

    /// Messages held now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// What the sender of a message that finds the node full hears.
    pub fn overloaded(&self) -> Verdict {
        Verdict {
            retry_after: Some(self.retry_after_secs()),
            ..Verdict::new(
                Kind::Overloaded,
                About::Gateway,
                "the gateway is at capacity, try again shortly",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_past_the_limit_are_refused_until_one_is_returned() {
        let admission = Admission::new(2, 3);
        let a = admission.admit().unwrap();
        let _b = admission.admit().unwrap();
        assert!(admission.full());
        let refused = admission.admit().unwrap_err();
        assert_eq!(refused.kind, Kind::Overloaded);
        assert_eq!(refused.retry_after, Some(3));
        let answer = refused.sip_answer("gw.test");
        assert_eq!(answer.code, 503);
        assert!(answer.headers.contains(&("Retry-After".into(), "3".into())));
        let reply = refused.smtp_reply();
        assert_eq!((reply.code, reply.enhanced), (451, Some("4.3.2")));
        drop(a);
        assert_eq!(admission.in_flight(), 1);
        assert!(admission.admit().is_ok());
    }

    #[test]
    fn new_limits_hold_for_the_next_ticket() {
        let admission = Admission::new(1, 3);
        let _a = admission.admit().unwrap();
        assert!(admission.admit().is_err());
        admission.set_limits(2, 7);
        let _b = admission.admit().unwrap();
        assert_eq!(admission.admit().unwrap_err().retry_after, Some(7));
        // Lowered under what is held: nothing is taken back, no new one.
        admission.set_limits(1, 7);
        assert_eq!(admission.in_flight(), 2);
        assert!(admission.full());
    }

    #[test]
    fn many_threads_never_hold_more_than_the_limit() {
        let admission = Admission::new(8, 1);
        let most = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..10_000 {
                        if let Ok(ticket) = admission.admit() {
                            most.fetch_max(admission.in_flight(), Ordering::Relaxed);
                            drop(ticket);
                        }
                    }
                });
            }
        });
        assert!(most.load(Ordering::Relaxed) <= 8);
        assert_eq!(admission.in_flight(), 0);
    }
}
