//! The gateway's metrics (issue 13), recorded through the `metrics` facade
//! into the Prometheus recorder [`install`] sets up, and rendered by the
//! admin listener (`admin`). Counters and histograms are recorded where
//! things happen; gauges of state (connections, queue, plugins in service)
//! are set when scraped ([`crate::admin`]).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `interwork_messages_total` | counter | `direction`, `mode`, `outcome` |
//! | `interwork_message_delay_seconds` | histogram | `direction`, `outcome` |
//! | `interwork_stage_seconds` | histogram | `stage`: `plugin`, `dns`, `smtp`, `sip` |
//! | `interwork_refused_early_total` | counter | `protocol`, `reason` (`overloaded`, `draining`) |
//! | `interwork_typing_indications_total` | counter | `mode`: `pager`, `large` |
//! | `interwork_file_transfers_total` | counter | `result`: `attached`, `linked` |
//! | `interwork_plugin_calls_total`, `interwork_plugin_faults_total` | counter | `plugin`, `version` |
//! | `interwork_plugin_swaps_total` | counter | `interface` |
//! | `interwork_plugin_serving` | gauge (1) | `interface`, `plugin`, `version`, `sha256` |
//! | `interwork_connections_open` | gauge | `protocol`: `smtp`, `sip_tcp`, `msrp` |
//! | `interwork_messages_in_flight` | gauge | |
//! | `interwork_queue_messages` | gauge | `direction`, `state` |
//! | `interwork_queue_oldest_seconds` | gauge | `direction` |
//! | `interwork_uptime_seconds` | gauge | |
//! | `interwork_build_info` | gauge (1) | `version` |

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Histogram buckets, in seconds: from a plugin call (tens of µs) to a
/// slow MX (tens of seconds).
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's recorder (once; later
/// calls return the same handle). Before it, every metric is a no-op.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets(BUCKETS)?
        .install_recorder()?;
    describe();
    metrics::gauge!("interwork_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// `# HELP` lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "interwork_messages_total",
        "Message outcomes (one per outcome log line)"
    );
    describe_histogram!(
        "interwork_message_delay_seconds",
        metrics::Unit::Seconds,
        "From receipt to the outcome"
    );
    describe_histogram!(
        "interwork_stage_seconds",
        metrics::Unit::Seconds,
        "Time in one stage: a plugin call, a DNS lookup, an SMTP transaction, a SIP transaction"
    );
    describe_counter!(
        "interwork_refused_early_total",
        "Requests and sessions refused before a message was read (overload, drain)"
    );
    describe_counter!(
        "interwork_typing_indications_total",
        "Typing indications (RFC 3994) answered and dropped"
    );
    describe_counter!(
        "interwork_file_transfers_total",
        "RCS file transfers (FT-HTTP): the file attached, or its link in the mail"
    );
    describe_counter!("interwork_plugin_calls_total", "Plugin calls");
    describe_counter!(
        "interwork_plugin_faults_total",
        "Plugin calls that trapped, ran out of time or memory"
    );
    describe_counter!(
        "interwork_plugin_swaps_total",
        "Live reloads that changed the plugin serving an interface"
    );
    describe_gauge!("interwork_msrp_sessions", "MSRP sessions set up now");
    describe_gauge!("interwork_connections_open", "Connections open now");
    describe_gauge!(
        "interwork_messages_in_flight",
        "Messages being received or attempted now"
    );
    describe_gauge!("interwork_queue_messages", "Messages in the queue by state");
    describe_gauge!(
        "interwork_queue_oldest_seconds",
        "Age of the oldest message waiting in the queue"
    );
    describe_gauge!("interwork_uptime_seconds", "Seconds since start");
    describe_gauge!("interwork_build_info", "This build");
}

/// The handle [`install`] made, if it did.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE.get()
}

/// One message outcome (from its log line, `message_log`): its
/// direction, mode and outcome as the line names them.
pub fn message_outcome(
    direction: &'static str,
    mode: &'static str,
    outcome: &'static str,
    delay_ms: u64,
) {
    let mode = if mode.is_empty() { "none" } else { mode };
    metrics::counter!(
        "interwork_messages_total",
        "direction" => direction,
        "mode" => mode,
        "outcome" => outcome
    )
    .increment(1);
    metrics::histogram!(
        "interwork_message_delay_seconds",
        "direction" => direction,
        "outcome" => outcome
    )
    .record(delay_ms as f64 / 1000.0);
}

/// A stage of a message's way.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// A DNS lookup (MX, addresses).
    Dns,
    /// One SMTP transaction with a mail server.
    Smtp,
    /// One SIP client transaction with the IM system.
    Sip,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Smtp => "smtp",
            Self::Sip => "sip",
        }
    }
}

/// How long one stage took.
pub fn stage(stage: Stage, took: Duration) {
    metrics::histogram!("interwork_stage_seconds", "stage" => stage.as_str())
        .record(took.as_secs_f64());
}

/// A request or session refused before its message was read.
pub fn refused_early(protocol: &'static str, reason: &'static str) {
    metrics::counter!(
        "interwork_refused_early_total",
        "protocol" => protocol,
        "reason" => reason
    )
    .increment(1);
}

/// A typing indication answered and dropped (RFC 3994).
pub fn typing_indication(mode: &'static str) {
    metrics::counter!("interwork_typing_indications_total", "mode" => mode).increment(1);
}

/// An RCS file transfer turned into mail: `attached` or `linked`.
pub fn file_transfer(result: &'static str) {
    metrics::counter!("interwork_file_transfers_total", "result" => result).increment(1);
}
