//! Stopping the listeners, and draining before that (the same signal,
//! a second channel: `draining` tells the listeners to take nothing new
//! while what is in flight finishes, `shutdown` to stop).
//!
//! Stopping the listeners. Every listener takes its socket and a
//! [`Shutdown`] as arguments (mini-redis's `server::run(listener,
//! shutdown)`) and returns when it is signalled, instead of being aborted;
//! tests bind `127.0.0.1:0`, serve, and stop the server the same way.

use tokio::sync::watch;

/// Tells the listeners to stop. Dropping it tells them too.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// What a listener waits on; clone it for each listener.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// A trigger and the first of its listeners' handles.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Signals every [`Shutdown`] of this trigger.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// Whether it was signalled, without waiting.
    pub fn is_signalled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown is signalled (at once if it was already).
    /// Cancel-safe, so it can sit in a `select!` loop.
    pub async fn signalled(&mut self) {
        while !*self.0.borrow_and_update() {
            if self.0.changed().await.is_err() {
                // The trigger is gone: nobody can keep us running.
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[tokio::test]
    async fn every_handle_sees_the_signal_once_given() {
        let (trigger, mut first) = super::channel();
        let mut second = first.clone();
        let pending = tokio::time::timeout(Duration::from_millis(20), first.signalled());
        assert!(pending.await.is_err(), "signalled before the trigger");
        trigger.trigger();
        first.signalled().await;
        second.signalled().await;
        // Asking again answers at once.
        first.signalled().await;
        let (trigger, mut orphan) = super::channel();
        drop(trigger);
        orphan.signalled().await;
    }
}
