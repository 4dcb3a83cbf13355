//! 2xx answers to INVITE waiting for their ACK (RFC 3261 §13.3.1.4). The
//! INVITE server transaction ends with its 2xx, so a 2xx lost on UDP is
//! never sent again by the transaction layer, and the client stopped
//! retransmitting its INVITE at our 100 Trying: the UAS core itself resends
//! the 2xx, T1 doubling up to T2, until the ACK comes or 64 × T1 passed.
//! The ACK of a 2xx is a request of its own (a new branch, possibly through
//! the proxies of the route set), so it is matched by Call-ID and CSeq
//! number, as the dialog it confirms (§17.1.1.3, §12.2.2).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use interwork_proto::sip::{CSeq, Request};
use tokio::sync::Notify;

use super::{T1, T2};

/// How long a 2xx is resent without an ACK: 64 × T1 (§13.3.1.4).
pub const GIVE_UP: Duration = Duration::from_secs(32);

/// 2xx answers waiting at most at once; past this a new one is sent once,
/// without retransmission (only trusted peers reach this point, so it
/// bounds memory against a misbehaving IM system, not a stranger).
const MAX_WAITING: usize = 10_000;

/// Identifies the INVITE an ACK acknowledges.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AckKey {
    call_id: String,
    cseq: u32,
}

impl AckKey {
    /// The key of an INVITE or of its ACK; `None` without Call-ID or a
    /// valid CSeq.
    pub fn of(request: &Request) -> Option<Self> {
        let cseq = CSeq::parse(request.headers.get("CSeq")?).ok()?;
        Some(Self {
            call_id: request.headers.get("Call-ID")?.to_string(),
            cseq: cseq.number,
        })
    }
}

/// The 2xx answers waiting for their ACK.
#[derive(Default)]
pub struct AwaitingAck {
    waiting: Mutex<HashMap<AckKey, Arc<Notify>>>,
}

/// A 2xx whose ACK is awaited (from [`AwaitingAck::expect`]).
pub struct Expected {
    key: AckKey,
    notify: Arc<Notify>,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckWait {
    /// The ACK came after this many retransmissions.
    Acknowledged { retransmissions: u32 },
    /// No ACK within [`GIVE_UP`].
    GaveUp { retransmissions: u32 },
}

impl AwaitingAck {
    /// An ACK arrived: the wait for its 2xx ends. False when no 2xx waits
    /// for it (an ACK of a non-2xx answer, or a retransmitted ACK).
    pub fn acknowledge(&self, ack: &Request) -> bool {
        let Some(key) = AckKey::of(ack) else {
            return false;
        };
        let notify = self.lock().remove(&key);
        match notify {
            Some(notify) => {
                // A stored permit: the waiter sees it even when it is between
                // two sleeps right now.
                notify.notify_one();
                true
            }
            None => false,
        }
    }

    /// Starts waiting for the ACK of `key`, before the 2xx goes out: an
    /// ACK that overtakes the rest of the sending task still counts.
    /// `None` when too many wait already.
    pub fn expect(&self, key: AckKey) -> Option<Expected> {
        let mut waiting = self.lock();
        if waiting.len() >= MAX_WAITING {
            return None;
        }
        let notify = waiting
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone();
        Some(Expected { key, notify })
    }

    /// Sends `bytes` (the 2xx, already sent once) again with `send`, T1
    /// doubling up to T2, until the ACK `expected` waits for arrives or
    /// [`GIVE_UP`] passes.
    pub async fn resend_until_ack<F, Fut>(
        &self,
        expected: Expected,
        bytes: &[u8],
        send: F,
    ) -> AckWait
    where
        F: Fn(Vec<u8>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let Expected { key, notify } = expected;
        let deadline = tokio::time::Instant::now() + GIVE_UP;
        let mut interval = T1;
        let mut retransmissions = 0;
        loop {
            let next = tokio::time::Instant::now() + interval;
            if next >= deadline {
                break;
            }
            tokio::select! {
                () = notify.notified() => return AckWait::Acknowledged { retransmissions },
                () = tokio::time::sleep_until(next) => {}
            }
            send(bytes.to_vec()).await;
            retransmissions += 1;
            interval = (interval * 2).min(T2);
        }
        // The rest of the 64 × T1 still counts an ACK as on time.
        let acked = tokio::select! {
            () = notify.notified() => true,
            () = tokio::time::sleep_until(deadline) => false,
        };
        self.lock().remove(&key);
        if acked {
            AckWait::Acknowledged { retransmissions }
        } else {
            AckWait::GaveUp { retransmissions }
        }
    }

    /// Whether no 2xx waits (the tests check nothing is left behind).
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AckKey, Arc<Notify>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use interwork_proto::sip::{Limits, Message, parse_datagram};

    use super::*;

    fn request(method: &str, cseq: u32) -> Request {
        let cseq_method = if method == "ACK" { "INVITE" } else { method };
        let text = format!(
            "{method} sip:b@x.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{method}\r\n\
             From: <sip:a@im.example.test>;tag=1\r\nTo: <sip:b@x.test>\r\nCall-ID: c1\r\n\
             CSeq: {cseq} {cseq_method}\r\nContent-Length: 0\r\n\r\n"
        );
        match parse_datagram(text.as_bytes(), &Limits::default()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_2xx_is_resent_t1_doubling_to_t2_until_64_t1() {
        let waiting = AwaitingAck::default();
        let sent = AtomicU32::new(0);
        let key = AckKey::of(&request("INVITE", 1)).unwrap();
        let start = tokio::time::Instant::now();
        let expected = waiting.expect(key).unwrap();
        let outcome = waiting
            .resend_until_ack(expected, b"SIP/2.0 200 OK\r\n\r\n", |_| {
                sent.fetch_add(1, Ordering::Relaxed);
                async {}
            })
            .await;
        // At 0.5, 1.5, 3.5, 7.5, 11.5, … 31.5 s: 10 copies after the first.
        assert_eq!(
            outcome,
            AckWait::GaveUp {
                retransmissions: 10
            }
        );
        assert_eq!(sent.load(Ordering::Relaxed), 10);
        assert_eq!(start.elapsed(), GIVE_UP);
        assert!(waiting.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn an_ack_stops_the_retransmissions() {
        let waiting = Arc::new(AwaitingAck::default());
        let key = AckKey::of(&request("INVITE", 7)).unwrap();
        let expected = waiting.expect(key).unwrap();
        let acker = waiting.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(2_000)).await;
            // Another CSeq is another INVITE: it does not count.
            assert!(!acker.acknowledge(&request("ACK", 8)));
            assert!(acker.acknowledge(&request("ACK", 7)));
            // A retransmitted ACK finds nothing left to stop.
            assert!(!acker.acknowledge(&request("ACK", 7)));
        });
        let outcome = waiting
            .resend_until_ack(expected, b"SIP/2.0 200 OK\r\n\r\n", |_| async {})
            .await;
        // Resent at 0.5 s and 1.5 s, acknowledged at 2 s.
        assert_eq!(outcome, AckWait::Acknowledged { retransmissions: 2 });
        assert!(waiting.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn an_ack_before_the_wait_begins_still_counts() {
        let waiting = AwaitingAck::default();
        let expected = waiting
            .expect(AckKey::of(&request("INVITE", 3)).unwrap())
            .unwrap();
        // The ACK is handled between sending the 2xx and starting to wait.
        assert!(waiting.acknowledge(&request("ACK", 3)));
        let outcome = waiting
            .resend_until_ack(expected, b"SIP/2.0 200 OK\r\n\r\n", |_| async {})
            .await;
        assert_eq!(outcome, AckWait::Acknowledged { retransmissions: 0 });
        assert!(waiting.is_empty());
    }
}
