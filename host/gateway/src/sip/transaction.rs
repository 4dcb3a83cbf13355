//! Server transactions (RFC 3261 §17.2), reduced to what a gateway that
//! answers each request once needs: recognise a retransmission, and answer
//! it with the response already sent (or 100 Trying while the first copy is
//! still being worked on), so that one MESSAGE never makes two mails.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use interwork_proto::sip::{CSeq, NameAddr, Request};

/// RFC 3261 §17.2.2 Timer J (64 × T1): how long a completed non-INVITE
/// transaction absorbs retransmissions over UDP.
pub const TIMER_J: Duration = Duration::from_secs(32);

/// Transactions kept at most; past this, new requests are answered 503 so
/// memory stays bounded under a flood.
const MAX_TRANSACTIONS: usize = 100_000;

/// Identifies a server transaction (§17.2.3): the top Via's branch and
/// sent-by, and the method (ACK matches its INVITE). Requests without an
/// RFC 3261 branch fall back to Call-ID, CSeq and the From tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey(String);

impl TransactionKey {
    /// The transaction a request belongs to; `None` without a Via.
    pub fn of(request: &Request) -> Option<Self> {
        let via = request.top_via()?;
        let method = match request.method.as_str() {
            "ACK" => "INVITE",
            other => other,
        };
        if let Some(branch) = via.branch() {
            return Some(Self(format!("{branch}|{}|{method}", via.sent_by)));
        }
        let cseq = CSeq::parse(request.headers.get("CSeq")?).ok()?;
        let call_id = request.headers.get("Call-ID")?;
        let from = request.headers.get("From")?;
        Some(Self(format!("{call_id}|{}|{from}|{method}", cseq.number)))
    }
}

/// What makes requests "the same" across transactions (RFC 3261
/// §8.2.2.2): a request without a To tag whose From tag, Call-ID and CSeq
/// are those of an ongoing transaction, but which is not of it, reached the
/// gateway twice (a forking proxy sent it down two paths) and is merged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MergeKey(String);

impl MergeKey {
    /// The key of a request outside a dialog; `None` inside one (a To tag)
    /// or without a From tag.
    pub fn of(request: &Request) -> Option<Self> {
        if super::inspection::to_tag(request).is_some() {
            return None;
        }
        let from = NameAddr::parse(request.headers.get("From")?).ok()?;
        let tag = from.param("tag").filter(|t| !t.is_empty())?;
        let cseq = CSeq::parse(request.headers.get("CSeq")?).ok()?;
        let call_id = request.headers.get("Call-ID")?;
        Some(Self(format!(
            "{tag}|{call_id}|{}|{}",
            cseq.number, cseq.method
        )))
    }
}

enum State {
    /// Being worked on; no final response yet.
    Proceeding,
    /// Answered with these bytes.
    Completed(Vec<u8>),
}

struct Entry {
    state: State,
    expires: Instant,
}

/// What to do with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// A new transaction: handle the request.
    New,
    /// A retransmission still being worked on.
    InProgress,
    /// A retransmission of an answered request: send these bytes again.
    Answered(Vec<u8>),
    /// Too many transactions at once.
    Overloaded,
    /// Another transaction has the same request (§8.2.2.2): answer `482`.
    Merged,
}

/// The server transactions of the gateway.
#[derive(Default)]
pub struct Transactions {
    entries: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    transactions: HashMap<TransactionKey, Entry>,
    /// Which transaction each request outside a dialog began. A copy is
    /// merged while that transaction is ongoing (§8.2.2.2), so an entry
    /// lives exactly as long as the transaction it names.
    merges: HashMap<MergeKey, TransactionKey>,
}

impl Table {
    fn sweep(&mut self, now: Instant) {
        self.transactions.retain(|_, e| e.expires > now);
        let transactions = &self.transactions;
        self.merges.retain(|_, key| transactions.contains_key(key));
    }

    fn ongoing(&self, key: &TransactionKey, now: Instant) -> bool {
        self.transactions.get(key).is_some_and(|e| e.expires > now)
    }
}

impl Transactions {
    /// Looks a request up, starting a transaction when it is new. `merge`
    /// is the request's [`MergeKey`], when it is outside a dialog.
    pub fn begin(&self, key: &TransactionKey, merge: Option<&MergeKey>, now: Instant) -> Begin {
        let mut table = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = table.transactions.get(key).filter(|e| e.expires > now) {
            return match &entry.state {
                State::Proceeding => Begin::InProgress,
                State::Completed(bytes) => Begin::Answered(bytes.clone()),
            };
        }
        if let Some(merge) = merge {
            let merged = table
                .merges
                .get(merge)
                .is_some_and(|other| other != key && table.ongoing(other, now));
            if merged {
                return Begin::Merged;
            }
        }
        if table.transactions.len() >= MAX_TRANSACTIONS {
            table.sweep(now);
            if table.transactions.len() >= MAX_TRANSACTIONS {
                return Begin::Overloaded;
            }
        }
        if let Some(merge) = merge {
            table.merges.insert(merge.clone(), key.clone());
        }
        table.transactions.insert(
            key.clone(),
            Entry {
                state: State::Proceeding,
                // A request may take as long as Timer F (64 × T1) to answer.
                expires: now + TIMER_J * 2,
            },
        );
        Begin::New
    }

    /// Records the final response of a transaction.
    pub fn complete(&self, key: &TransactionKey, response: Vec<u8>, now: Instant) {
        let mut table = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        table.transactions.insert(
            key.clone(),
            Entry {
                state: State::Completed(response),
                expires: now + TIMER_J,
            },
        );
    }

    /// Forgets expired transactions.
    pub fn sweep(&self, now: Instant) {
        let mut table = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        table.sweep(now);
    }

    /// How many transactions are kept.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .transactions
            .len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use interwork_proto::sip::{Limits, Message, parse_datagram};

    fn request(branch: &str) -> Request {
        let text = format!(
            "MESSAGE sip:b@x.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch={branch}\r\n\
             From: <sip:a@im.example.test>;tag=1\r\nTo: <sip:b@x.test>\r\nCall-ID: c1\r\n\
             CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
        );
        match parse_datagram(text.as_bytes(), &Limits::default()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    #[test]
    fn retransmissions_are_absorbed() {
        let t = Transactions::default();
        let now = Instant::now();
        let key = TransactionKey::of(&request("z9hG4bK-1")).unwrap();
        assert_eq!(t.begin(&key, None, now), Begin::New);
        assert_eq!(t.begin(&key, None, now), Begin::InProgress);
        t.complete(&key, b"SIP/2.0 202 Accepted\r\n\r\n".to_vec(), now);
        assert_eq!(
            t.begin(&key, None, now + Duration::from_secs(5)),
            Begin::Answered(b"SIP/2.0 202 Accepted\r\n\r\n".to_vec())
        );
        // Another branch is another transaction.
        let other = TransactionKey::of(&request("z9hG4bK-2")).unwrap();
        assert_eq!(t.begin(&other, None, now), Begin::New);
        // After Timer J the transaction is gone.
        t.sweep(now + TIMER_J + Duration::from_secs(1));
        assert_eq!(
            t.begin(&key, None, now + TIMER_J + Duration::from_secs(1)),
            Begin::New
        );
    }

    /// The keys of [`request`] with Via branch `branch`.
    fn keys(branch: &str) -> (TransactionKey, MergeKey) {
        let request = request(branch);
        let key = TransactionKey::of(&request).unwrap();
        (key, MergeKey::of(&request).unwrap())
    }

    #[test]
    fn the_same_request_by_another_path_is_merged() {
        let t = Transactions::default();
        let now = Instant::now();
        let (key, merge) = keys("z9hG4bK-1");
        assert_eq!(t.begin(&key, Some(&merge), now), Begin::New);
        // A forking proxy's second copy: another branch, same From tag,
        // Call-ID and CSeq (§8.2.2.2).
        let (copy_key, copy_merge) = keys("z9hG4bK-2");
        assert_eq!(copy_merge, merge);
        assert_eq!(t.begin(&copy_key, Some(&merge), now), Begin::Merged);
        // The first one's retransmission is still the first one.
        assert_eq!(t.begin(&key, Some(&merge), now), Begin::InProgress);
        // Once the transaction is gone, the request is new again.
        let later = now + TIMER_J * 3;
        t.sweep(later);
        assert_eq!(t.begin(&copy_key, Some(&merge), later), Begin::New);
    }

    #[test]
    fn a_copy_is_merged_exactly_while_the_first_transaction_lasts() {
        let t = Transactions::default();
        let now = Instant::now();
        let (key, merge) = keys("z9hG4bK-1");
        let (copy_key, _) = keys("z9hG4bK-2");
        assert_eq!(t.begin(&key, Some(&merge), now), Begin::New);
        // Answered late: the transaction lasts Timer J past its answer,
        // and so does the merge, whenever the request began.
        let answered = now + TIMER_J * 2 - Duration::from_secs(1);
        t.complete(&key, b"SIP/2.0 202 Accepted\r\n\r\n".to_vec(), answered);
        let after_begin = now + TIMER_J * 2 + Duration::from_secs(5);
        assert_eq!(t.begin(&copy_key, Some(&merge), after_begin), Begin::Merged);
        let gone = answered + TIMER_J + Duration::from_secs(1);
        assert_eq!(t.begin(&copy_key, Some(&merge), gone), Begin::New);
    }

    #[test]
    fn requests_without_rfc3261_branch_use_dialog_identifiers() {
        let a = TransactionKey::of(&request("old-style")).unwrap();
        let b = TransactionKey::of(&request("old-style-2")).unwrap();
        assert_eq!(a, b, "same Call-ID, CSeq and From: the same request");
    }
}
