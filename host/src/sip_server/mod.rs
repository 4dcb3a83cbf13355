//! The SIP side of the gateway as a server: UDP and TCP listeners, server
//! transactions that absorb retransmissions, the trusted-peer check, and
//! the hand-off of each new request to a handler.

mod client;
mod listener;
mod transactions;

pub use client::ClientError;
pub use listener::{RequestHandler, SipServer, best_effort_400};
pub use transactions::{Begin, TransactionKey, Transactions};
