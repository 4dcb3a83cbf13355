//! Putting chunked messages back together (RFC 4975 §5.1, §7.3.1).

use std::collections::{HashMap, VecDeque};

use super::byte_range::ByteRange;
use super::byte_set::ByteSet;
use super::error::{MsrpError, excerpt};
use super::frame::{Continuation, Method, Request};
use super::grammar;

/// What [`Reassembler::accept`] made of a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The message is not complete yet; `received` distinct bytes are held.
    Incomplete {
        /// Distinct bytes of the message received so far.
        received: u64,
    },
    /// Every byte of the message has arrived.
    Complete {
        /// The message's Message-ID.
        message_id: String,
        /// Content-Type of the first chunk that had one.
        content_type: Option<String>,
        /// The whole message.
        body: Vec<u8>,
    },
    /// The sender aborted the message with `#`; what had arrived is dropped.
    Aborted {
        /// The aborted message.
        message_id: String,
    },
    /// The message is larger than allowed and has been dropped; answer the
    /// chunk with 413 so the sender stops (RFC 4975 §7.3.1). Later chunks of
    /// the same message get this answer too.
    TooLarge {
        /// The refused message.
        message_id: String,
    },
}

/// How a message that is no longer in progress ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Completed or aborted: further chunks are a sender error.
    Finished,
    /// Refused as too large: further chunks get 413 again.
    TooLarge,
}

/// A message still being received.
#[derive(Debug, Default)]
struct Partial {
    content_type: Option<String>,
    total: Option<u64>,
    /// Byte `n` of the message is at index `n - 1`.
    data: Vec<u8>,
    have: ByteSet,
}

/// Reassembles SEND chunks into messages, keyed by Message-ID.
///
/// Chunks may arrive out of order, twice, or overlapping (with the same
/// bytes); a message is complete once its total is known and every byte
/// `1..=total` is present. Memory stays below
/// `max_message_bytes * max_messages_in_progress` plus a short list of the
/// ids of recently finished messages.
#[derive(Debug)]
pub struct Reassembler {
    max_message_bytes: usize,
    max_messages_in_progress: usize,
    in_progress: HashMap<String, Partial>,
    /// Recently ended messages, oldest first, so late chunks are recognised.
    ended: VecDeque<(String, Ending)>,
}

/// How many ended message ids are remembered at least.
const MIN_ENDED_MEMORY: usize = 64;

impl Reassembler {
    /// A reassembler holding at most `max_messages_in_progress` messages of at
    /// most `max_message_bytes` each.
    pub fn new(max_message_bytes: usize, max_messages_in_progress: usize) -> Self {
        Self {
            max_message_bytes,
            max_messages_in_progress,
            in_progress: HashMap::new(),
            ended: VecDeque::new(),
        }
    }

    /// Number of messages currently partly received.
    pub fn in_progress(&self) -> usize {
        self.in_progress.len()
    }

    /// Forgets a partly received message, e.g. when its session ends.
    pub fn discard(&mut self, message_id: &str) {
        self.in_progress.remove(message_id);
    }

    /// Takes one SEND chunk.
    ///
    /// Errors mean the chunk is unusable (the caller answers 400); the state
    /// of its message is left as it was.
    pub fn accept(&mut self, request: &Request) -> Result<Progress, MsrpError> {
        if request.method != Method::Send {
            return Err(MsrpError::NotASend(excerpt(
                request.method.as_str().as_bytes(),
            )));
        }
        // RFC 4975 §7.1.1: every SEND carries a Message-ID.
        let message_id = request
            .message_id
            .as_deref()
            .ok_or(MsrpError::MissingHeader("Message-ID"))?;
        if !grammar::is_ident(message_id) {
            return Err(MsrpError::BadMessageId(excerpt(message_id.as_bytes())));
        }
        match self.ending(message_id) {
            Some(Ending::TooLarge) => return Ok(self.too_large(message_id)),
            Some(Ending::Finished) => {
                return Err(MsrpError::MessageFinished {
                    message_id: message_id.to_owned(),
                });
            }
            None => {}
        }
        // RFC 4975 §7.1: "#" abandons the message; nothing more will come.
        if request.continuation == Continuation::Aborted {
            self.in_progress.remove(message_id);
            self.remember(message_id, Ending::Finished);
            return Ok(Progress::Aborted {
                message_id: message_id.to_owned(),
            });
        }

        let chunk = Chunk::of(request, message_id)?;
        let limit = u64::try_from(self.max_message_bytes).unwrap_or(u64::MAX);
        if chunk.last > limit || chunk.total.is_some_and(|total| total > limit) {
            return Ok(self.too_large(message_id));
        }
        if !self.in_progress.contains_key(message_id)
            && self.in_progress.len() >= self.max_messages_in_progress
        {
            return Err(MsrpError::TooManyMessagesInProgress {
                limit: self.max_messages_in_progress,
            });
        }
        let partial = self.in_progress.entry(message_id.to_owned()).or_default();
        if let Err(error) = store(partial, &chunk, &request.body, message_id) {
            if partial.have.len() == 0 && partial.total.is_none() {
                self.in_progress.remove(message_id);
            }
            return Err(error);
        }
        if partial.content_type.is_none() {
            partial.content_type.clone_from(&request.content_type);
        }
        let done = partial.total.filter(|&total| partial.have.covers(total));
        let received = partial.have.len();
        let Some(total) = done else {
            return Ok(Progress::Incomplete { received });
        };
        let mut partial = self.in_progress.remove(message_id).unwrap_or_default();
        partial
            .data
            .truncate(usize::try_from(total).unwrap_or(usize::MAX));
        self.remember(message_id, Ending::Finished);
        Ok(Progress::Complete {
            message_id: message_id.to_owned(),
            content_type: partial.content_type,
            body: partial.data,
        })
    }

    fn too_large(&mut self, message_id: &str) -> Progress {
        self.in_progress.remove(message_id);
        if self.ending(message_id).is_none() {
            self.remember(message_id, Ending::TooLarge);
        }
        Progress::TooLarge {
            message_id: message_id.to_owned(),
        }
    }

    fn ending(&self, message_id: &str) -> Option<Ending> {
        self.ended
            .iter()
            .find(|(id, _)| id == message_id)
            .map(|&(_, ending)| ending)
    }

    fn remember(&mut self, message_id: &str, ending: Ending) {
        let capacity = self.max_messages_in_progress.max(MIN_ENDED_MEMORY);
        while self.ended.len() >= capacity {
            self.ended.pop_front();
        }
        self.ended.push_back((message_id.to_owned(), ending));
    }
}

/// Where one chunk's bytes go, checked against its Byte-Range.
struct Chunk {
    first: u64,
    /// Position of the chunk's last byte; `first - 1` for an empty chunk.
    last: u64,
    /// Message size, if this chunk tells it.
    total: Option<u64>,
}

impl Chunk {
    fn of(request: &Request, message_id: &str) -> Result<Self, MsrpError> {
        let mismatch = |reason| MsrpError::ChunkMismatch {
            message_id: message_id.to_owned(),
            reason,
        };
        // No Byte-Range: read it as `1-*/*`, the message from its first byte, since
        // that is the only range a sender can omit without losing information.
        let range = request.byte_range.unwrap_or(ByteRange {
            start: 1,
            end: None,
            total: None,
        });
        if range.start == 0 {
            return Err(mismatch("Byte-Range starts at 0"));
        }
        let len = u64::try_from(request.body.len()).unwrap_or(u64::MAX);
        let last = (range.start - 1)
            .checked_add(len)
            .ok_or(mismatch("Byte-Range end overflows"))?;
        match range.end {
            // RFC 4975 §7.1.1: "*" means the end is given by the body length.
            None => {}
            Some(end) if end == last => {}
            // A chunk interrupted mid-way (flag "+") may end before its declared end.
            Some(end) if end > last && request.continuation == Continuation::More => {}
            Some(_) => return Err(mismatch("body length differs from Byte-Range")),
        }
        // The "$" chunk ends the message, so its last byte gives the total if "*".
        let total = match (range.total, request.continuation) {
            (Some(total), _) => Some(total),
            (None, Continuation::Complete) => Some(last),
            (None, _) => None,
        };
        if total.is_some_and(|total| last > total) {
            return Err(mismatch("chunk extends past the message total"));
        }
        Ok(Self {
            first: range.start,
            last,
            total,
        })
    }
}

/// Copies the chunk into the partial message after checking it agrees with
/// what is already there; on error nothing is changed.
fn store(
    partial: &mut Partial,
    chunk: &Chunk,
    body: &[u8],
    message_id: &str,
) -> Result<(), MsrpError> {
    let mismatch = |reason| MsrpError::ChunkMismatch {
        message_id: message_id.to_owned(),
        reason,
    };
    if let Some(total) = chunk.total {
        if partial.total.is_some_and(|known| known != total) {
            return Err(mismatch("total differs from an earlier chunk"));
        }
        if partial.have.max() > total {
            return Err(mismatch("earlier chunks extend past this total"));
        }
    }
    if partial.total.is_some_and(|known| chunk.last > known) {
        return Err(mismatch("chunk extends past the message total"));
    }
    let index = |position: u64| {
        position
            .checked_sub(1)
            .and_then(|offset| usize::try_from(offset).ok())
            .ok_or(mismatch("position out of range"))
    };
    // Overlaps must repeat the same bytes; anything else is corruption.
    for (a, b) in partial.have.overlapping(chunk.first, chunk.last) {
        let old = partial.data.get(index(a)?..=index(b)?);
        let new = body.get(index(a - chunk.first + 1)?..=index(b - chunk.first + 1)?);
        if old.is_none() || old != new {
            return Err(MsrpError::ConflictingChunk {
                message_id: message_id.to_owned(),
            });
        }
    }
    if chunk.last >= chunk.first {
        let from = index(chunk.first)?;
        let to = usize::try_from(chunk.last).map_err(|_| mismatch("position too large"))?;
        if partial.data.len() < to {
            partial.data.resize(to, 0);
        }
        let target = partial
            .data
            .get_mut(from..to)
            .filter(|target| target.len() == body.len())
            .ok_or(mismatch("position too large"))?;
        target.copy_from_slice(body);
        partial.have.insert(chunk.first, chunk.last);
    }
    if chunk.total.is_some() {
        partial.total = chunk.total;
    }
    Ok(())
}
