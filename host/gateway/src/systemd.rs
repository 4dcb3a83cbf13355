//! Tells the service manager how the gateway stands (`Type=notify`,
//! sd_notify(3)): `READY=1` once it serves, `RELOADING=1` … `READY=1`
//! around a reload, `STOPPING=1` when the drain starts, `WATCHDOG=1` while
//! the runtime turns when the unit sets `WatchdogSec`. Outside systemd
//! (no `$NOTIFY_SOCKET`) each call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

use crate::shutdown::Shutdown;

fn tell(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!("cannot notify the service manager: {e}");
    }
}

/// Serving: listeners bound, plugins loaded, store open.
pub fn ready(status: &str) {
    tell(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A reload begins (the next [`ready`] ends it).
pub fn reloading() {
    tell(&[NotifyState::Reloading]);
}

/// The drain begins.
pub fn stopping() {
    tell(&[NotifyState::Stopping, NotifyState::Status("draining")]);
}

/// Pings the watchdog at half its interval until `shutdown`, when the unit
/// asks for one: a wedged runtime stops the pings and systemd restarts it.
pub async fn watchdog(mut shutdown: Shutdown) {
    let Some(interval) = sd_notify::watchdog_enabled() else {
        return;
    };
    let every = (interval / 2).max(Duration::from_millis(100));
    tracing::info!(every_ms = every.as_millis() as u64, "watchdog pings");
    loop {
        tell(&[NotifyState::Watchdog]);
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.signalled() => return,
        }
    }
}
