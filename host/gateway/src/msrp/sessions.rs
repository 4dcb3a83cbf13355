//! Sessions set up by INVITE and ended by BYE (or by idleness).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use interwork_proto::msrp::MsrpUri;

/// One MSRP session: who talks to whom, and the paths of both ends.
#[derive(Debug)]
pub struct Session {
    /// Our session id: the last segment of our `a=path` URI.
    pub id: String,
    /// SIP Call-ID of the INVITE dialog, for BYE.
    pub call_id: String,
    /// IM identity of the sender (P-Asserted-Identity or From).
    pub sender: String,
    /// IM identity of the recipient (Request-URI).
    pub recipient: String,
    /// SIP Subject of the INVITE, if any.
    pub subject: Option<String>,
    /// The INVITE's CPM conversation headers (`crate::threads`).
    pub cpm_headers: Vec<interwork_plugin_host::bindings::types::Header>,
    /// The peer's `a=path` (RFC 4975 §8.2).
    pub peer_path: Vec<MsrpUri>,
    /// Our URI, as in our `a=path`.
    pub our_uri: MsrpUri,
    /// When the INVITE set it up.
    pub created: Instant,
}

#[derive(Default)]
struct Table {
    by_id: HashMap<String, Arc<Session>>,
    by_call_id: HashMap<String, String>,
}

/// The live sessions.
#[derive(Default)]
pub struct Sessions {
    table: Mutex<Table>,
}

/// Sessions kept at most; an INVITE past this is answered 486 Busy Here.
pub const MAX_SESSIONS: usize = 10_000;

impl Sessions {
    /// Adds a session; false when the table is full.
    pub fn insert(&self, session: Session) -> bool {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if table.by_id.len() >= MAX_SESSIONS {
            return false;
        }
        table
            .by_call_id
            .insert(session.call_id.clone(), session.id.clone());
        table.by_id.insert(session.id.clone(), Arc::new(session));
        true
    }

    /// The session our URI with this session id belongs to.
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        table.by_id.get(id).cloned()
    }

    /// Whether a dialog has a session.
    pub fn has_call(&self, call_id: &str) -> bool {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        table.by_call_id.contains_key(call_id)
    }

    /// Ends the session of a dialog (BYE); false when there was none.
    pub fn end_call(&self, call_id: &str) -> bool {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        match table.by_call_id.remove(call_id) {
            Some(id) => {
                table.by_id.remove(&id);
                true
            }
            None => false,
        }
    }

    /// Ends sessions older than `lifetime` (a peer that never sent BYE).
    pub fn expire(&self, lifetime: Duration, now: Instant) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let old: Vec<(String, String)> = table
            .by_id
            .values()
            .filter(|s| now.duration_since(s.created) > lifetime)
            .map(|s| (s.id.clone(), s.call_id.clone()))
            .collect();
        for (id, call_id) in old {
            tracing::info!(session = %id, "MSRP session expired without BYE");
            table.by_id.remove(&id);
            table.by_call_id.remove(&call_id);
        }
    }

    /// Live sessions.
    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_id
            .len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
