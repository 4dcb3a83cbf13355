//! The gateway as a SIP endpoint (RFC 3261) toward the IM system: UDP and
//! TCP listeners with the trusted-peer check (`endpoint`), server and client
//! transactions (`transaction`, `client_transaction`), the 2xx answers to
//! INVITE resent until their ACK (`awaiting_ack`), the dialogs of
//! large-message mode (`dialog`), the RFC 3261 §8.2 checks of each request
//! (`inspection`), and the answers it gives (`answer`).
//! Messages themselves are parsed and written by `interwork_proto::sip`.

mod answer;
mod awaiting_ack;
mod client_transaction;
pub mod dialog;
mod endpoint;
pub mod inspection;
mod transaction;

use std::net::SocketAddr;
use std::time::Duration;

use interwork_proto::sip::{Request, Response};

pub use answer::Answer;
pub use client_transaction::ClientError;
pub use endpoint::{RequestHandler, SipEndpoint, best_effort_400};
pub use transaction::{Begin, MergeKey, TransactionKey, Transactions};

use crate::BoxFuture;
use crate::config::SipTransport;

/// RFC 3261 §17.1.1.1 T1: the round-trip estimate retransmissions start from.
const T1: Duration = Duration::from_millis(500);
/// RFC 3261 §17.1.2.2 T2: the longest interval between retransmissions.
const T2: Duration = Duration::from_secs(4);

/// Sending requests to the IM system: what the e-mail → IM direction needs
/// of the SIP endpoint. [`SipEndpoint`] sends over its sockets; tests give
/// an in-memory IM system instead.
pub trait SipSender: Send + Sync {
    /// Sends `request` to `dest` and waits for its final response (a client
    /// transaction). The gateway's Via goes on top of `request`.
    fn send_request<'a>(
        &'a self,
        request: &'a mut Request,
        dest: SocketAddr,
        transport: SipTransport,
        timer_f: Duration,
    ) -> BoxFuture<'a, Result<Response, ClientError>>;

    /// Sends the ACK of an INVITE's final response (ACK has no response).
    fn send_ack<'a>(
        &'a self,
        invite: &'a Request,
        response: &'a Response,
        dest: SocketAddr,
        transport: SipTransport,
    ) -> BoxFuture<'a, Result<(), ClientError>>;
}

#[cfg(test)]
mod tests;
