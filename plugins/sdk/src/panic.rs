//! A panic in a plugin traps its instance, and the gateway answers the
//! message with a temporary error. Rust's own panic hook would write the
//! message to stderr — a WASI import the gateway links to a trap — so the
//! message was lost and the log said only "unknown import". This hook sends
//! it through `log` first.

use std::sync::Once;

use crate::log::{Level, log};

static INSTALLED: Once = Once::new();

/// Installs the hook (once per instance; [`export!`](crate::export) calls
/// it at the start of every call).
pub fn install() {
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_string());
            let place = info
                .location()
                .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            log(Level::Error, &format!("panicked{place}: {message}"));
        }));
    });
}
