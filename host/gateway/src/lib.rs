//! Interwork: an IM ↔ e-mail interworking gateway (`docs/SPEC.md`, the
//! README). The gateway process: its configuration, its two directions and
//! the transports around the wire formats of `interwork_proto`; address
//! mapping and conversion run in the plugins of `interwork_plugin_host`.
//!
//! * `flows` — the two directions, step by step (receive → map → convert →
//!   deliver → answer).
//! * `im`, `mail` — the messages of each side, incoming and outgoing.
//! * `sip`, `msrp`, `smtp` — endpoints, transactions, dialogs, listeners,
//!   the SMTP client; `framed` — the one stream frame reader.
//! * `spool` — queue before acknowledge: the store, first attempts,
//!   retries.
//! * `file_fetch` — downloads the files of RCS file transfers via HTTP
//!   from the content servers on the allow-list.
//! * `admission` — how many messages the node holds at once; the rest are
//!   answered at once (SIP 503, SMTP 451 4.3.2).
//! * `outcome` — the one verdict table: every failure → SIP, SMTP, MSRP.
//! * `message_log`, `telemetry`, `admin`, `control` — what an operator
//!   sees: one log line per message outcome, the metrics, the admin HTTP
//!   listener (`/metrics`, `/healthz`, `/readyz`), the control socket.
//! * `config`, `directory`, `plugins`, `run`, `cli` — the process.

use std::future::Future;
use std::pin::Pin;

pub mod admin;
pub mod admission;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod directory;
pub mod file_fetch;
pub mod flows;
pub mod framed;
pub mod ids;
pub mod im;
pub mod listen;
pub mod live;
pub mod loops;
pub mod mail;
pub mod message_log;
pub mod msrp;
pub mod notify;
pub mod outcome;
pub mod plugins;
pub mod reload;
pub mod run;
pub mod shutdown;
pub mod sip;
pub mod smtp;
pub mod spool;
pub mod systemd;
pub mod telemetry;
pub mod threads;

/// A boxed future, so that the trait seams between the flows and the
/// transports (`SipSender`, `MailDelivery`, `MxLookup`) stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
