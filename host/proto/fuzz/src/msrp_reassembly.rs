//! `interwork_proto::msrp::Reassembler` fed with the frames parsed from arbitrary
//! bytes (SEND chunks, and whatever other requests turn up).
//!
//! Checks: no panic; never more messages in progress than allowed; and the
//! reassembler agrees with a simple model that lays each accepted chunk's
//! bytes at its Byte-Range position: `Incomplete { received }` is the
//! number of distinct bytes accepted so far, a `Complete` body is exactly
//! the bytes the accepted chunks carried, and no completed message is
//! larger than the limit. A refused chunk must leave the message as it was
//! (documented on `accept`), so the model ignores it.

use std::collections::HashMap;

use interwork_proto::msrp::{Frame, Limits, Progress, Reassembler, Request, parse};

const MAX_FRAMES: usize = 64;

/// A reassembler plus the model it is checked against.
struct Checked {
    reassembler: Reassembler,
    max_message_bytes: usize,
    max_in_progress: usize,
    /// Message-ID → byte `n` of the message at index `n - 1`, if received.
    model: HashMap<String, Vec<Option<u8>>>,
}

impl Checked {
    fn new(max_message_bytes: usize, max_in_progress: usize) -> Self {
        Self {
            reassembler: Reassembler::new(max_message_bytes, max_in_progress),
            max_message_bytes,
            max_in_progress,
            model: HashMap::new(),
        }
    }

    /// Lays the chunk's bytes into the model; only called for accepted
    /// chunks, whose positions the reassembler has checked against its limit.
    fn record(&mut self, request: &Request, message_id: &str) {
        let start = request.byte_range.map_or(1, |range| range.start);
        let offset = usize::try_from(start - 1).expect("accepted chunk within the size limit");
        let bytes = self.model.entry(message_id.to_owned()).or_default();
        let end = offset + request.body.len();
        if bytes.len() < end {
            bytes.resize(end, None);
        }
        for (slot, &byte) in bytes[offset..end].iter_mut().zip(&request.body) {
            *slot = Some(byte);
        }
    }

    fn accept(&mut self, request: &Request) {
        let result = self.reassembler.accept(request);
        assert!(
            self.reassembler.in_progress() <= self.max_in_progress,
            "{} messages in progress, limit {}",
            self.reassembler.in_progress(),
            self.max_in_progress
        );
        let Ok(progress) = result else {
            return;
        };
        match progress {
            Progress::Incomplete { received } => {
                let message_id = request
                    .message_id
                    .as_deref()
                    .expect("accepted without Message-ID");
                self.record(request, message_id);
                let known = self.model[message_id]
                    .iter()
                    .filter(|b| b.is_some())
                    .count();
                assert_eq!(
                    received, known as u64,
                    "received bytes of {message_id:?} disagree with the accepted chunks"
                );
            }
            Progress::Complete {
                message_id, body, ..
            } => {
                assert_eq!(request.message_id.as_deref(), Some(message_id.as_str()));
                assert!(
                    body.len() <= self.max_message_bytes,
                    "completed message over the limit"
                );
                self.record(request, &message_id);
                let model = self.model.remove(&message_id).unwrap_or_default();
                assert!(
                    model.len() <= body.len(),
                    "{message_id:?}: accepted bytes up to {} but the body has {}",
                    model.len(),
                    body.len()
                );
                for (index, &byte) in body.iter().enumerate() {
                    assert_eq!(
                        model.get(index).copied().flatten(),
                        Some(byte),
                        "{message_id:?}: byte {} of the completed body was never received as such",
                        index + 1
                    );
                }
            }
            Progress::Aborted { message_id } | Progress::TooLarge { message_id } => {
                assert_eq!(request.message_id.as_deref(), Some(message_id.as_str()));
                self.model.remove(&message_id);
            }
        }
    }
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let limits = Limits::default();
    // A roomy reassembler and a cramped one, to reach the size and count limits.
    let mut checked = [Checked::new(4096, 4), Checked::new(16, 2)];
    let mut rest = data;
    for _ in 0..MAX_FRAMES {
        let Ok(Some((frame, consumed))) = parse(rest, &limits) else {
            break;
        };
        assert!(consumed > 0 && consumed <= rest.len());
        rest = &rest[consumed..];
        if let Frame::Request(request) = frame {
            for c in &mut checked {
                c.accept(&request);
            }
        }
    }
}
