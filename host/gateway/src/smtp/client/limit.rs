//! Deliveries at once per recipient domain (Postfix's
//! `default_destination_concurrency_limit`): a burst of IMs to one domain,
//! or a queue run after its MX came back, does not open hundreds of
//! connections to one mail system. Deliveries past the limit wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::{DeliveryOutcome, MailDelivery};
use crate::BoxFuture;
use crate::mail::OutgoingMail;

/// A [`MailDelivery`] that lets at most `limit` deliveries to one domain
/// run at once.
pub struct PerDomainLimit {
    inner: Arc<dyn MailDelivery>,
    limit: usize,
    domains: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl PerDomainLimit {
    /// Limits `inner` to `limit` deliveries at once per domain.
    pub fn new(inner: Arc<dyn MailDelivery>, limit: usize) -> Self {
        Self {
            inner,
            limit: limit.max(1),
            domains: Mutex::new(HashMap::new()),
        }
    }

    fn semaphore(&self, domain: &str) -> Arc<Semaphore> {
        let mut domains = self.domains.lock().unwrap_or_else(|e| e.into_inner());
        domains
            .entry(domain.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.limit)))
            .clone()
    }

    /// Forgets a domain nobody delivers to now, so the map stays as small
    /// as the set of domains being delivered to.
    fn release(&self, domain: &str, semaphore: Arc<Semaphore>) {
        let mut domains = self.domains.lock().unwrap_or_else(|e| e.into_inner());
        // Ours and the map's: nobody else holds or waits on it.
        if Arc::strong_count(&semaphore) == 2 {
            domains.remove(domain);
        }
    }
}

fn domain_of(mail: &OutgoingMail) -> String {
    mail.envelope_to
        .first()
        .and_then(|to| to.rsplit_once('@'))
        .map(|(_, domain)| domain.to_ascii_lowercase())
        .unwrap_or_default()
}

impl MailDelivery for PerDomainLimit {
    fn deliver<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(async move {
            let domain = domain_of(mail);
            let semaphore = self.semaphore(&domain);
            let outcome = match semaphore.acquire().await {
                Ok(_turn) => self.inner.deliver(mail).await,
                // Never closed; deliver rather than lose the attempt.
                Err(_) => self.inner.deliver(mail).await,
            };
            self.release(&domain, semaphore);
            outcome
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Counts deliveries at once, per the first recipient's domain.
    #[derive(Default)]
    struct Slow {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl MailDelivery for Slow {
        fn deliver<'a>(&'a self, _mail: &'a OutgoingMail) -> BoxFuture<'a, DeliveryOutcome> {
            Box::pin(async move {
                let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
                self.most.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                self.now.fetch_sub(1, Ordering::SeqCst);
                DeliveryOutcome::Delivered {
                    server: "mx".into(),
                    reply: "ok".into(),
                    dsn: false,
                }
            })
        }
    }

    fn mail(to: &str) -> OutgoingMail {
        OutgoingMail {
            envelope_from: "a@x.test".into(),
            envelope_to: vec![to.into()],
            dsn_notify: interwork_plugin_host::bindings::types::DsnNotify::empty(),
            envid: None,
            message_id: "m@x.test".into(),
            bytes: b"Subject: x\r\n\r\nx\r\n".to_vec(),
            seven_bit: None,
        }
    }

    #[tokio::test]
    async fn one_domain_gets_at_most_the_limit_and_is_forgotten_after() {
        let slow = Arc::new(Slow::default());
        let limited = Arc::new(PerDomainLimit::new(slow.clone(), 3));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let limited = limited.clone();
                tokio::spawn(async move { limited.deliver(&mail("b@Y.test")).await })
            })
            .collect();
        for task in tasks {
            assert!(matches!(
                task.await.unwrap(),
                DeliveryOutcome::Delivered { .. }
            ));
        }
        assert_eq!(slow.most.load(Ordering::SeqCst), 3);
        assert!(limited.domains.lock().unwrap().is_empty());
    }
}
