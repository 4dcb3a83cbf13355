//! What the runtime counts of each plugin (issue 13), through the
//! `metrics` facade: calls, faults and the time of each call, labelled by
//! the plugin's name and version so that a swap shows in the graphs. The
//! handles are made once per loaded plugin: a call only adds to atomics.

use std::time::Duration;

use metrics::{Counter, Histogram};

/// One plugin's metric handles.
pub(crate) struct Meters {
    calls: Counter,
    faults: Counter,
    seconds: Histogram,
}

impl Meters {
    /// The handles of the plugin `name` at `version`.
    pub(crate) fn new(name: &str, version: &str) -> Self {
        let labels = [
            ("plugin", name.to_string()),
            ("version", version.to_string()),
        ];
        Self {
            calls: metrics::counter!("interwork_plugin_calls_total", &labels),
            faults: metrics::counter!("interwork_plugin_faults_total", &labels),
            seconds: metrics::histogram!("interwork_stage_seconds", "stage" => "plugin"),
        }
    }

    /// One call that took `took`; `faulted` when it trapped or ran out.
    pub(crate) fn call(&self, took: Duration, faulted: bool) {
        self.calls.increment(1);
        if faulted {
            self.faults.increment(1);
        }
        self.seconds.record(took.as_secs_f64());
    }
}
