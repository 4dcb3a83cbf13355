//! E-mail → IM (SPEC S6): a mail accepted by the SMTP server becomes an IM
//! to the IM system that serves the recipient, and the SIP outcome becomes
//! the reply to DATA — the sending MTA keeps the mail and retries on a
//! temporary failure, so nothing is lost.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use interwork_plugin_host::Plugins;
use interwork_plugin_host::bindings::mapping::Role;

use crate::clock::now;
use crate::im::outgoing::{Delivered, ImComposer, ImSender, PlannedIm};
use crate::loops;
use crate::mail::incoming;
use crate::outcome::{About, Kind, Verdict};
use crate::smtp::server::{MailSink, RecipientCheck, Reply, Transaction};

/// Receive → map → convert, without the network: the SIP request an
/// accepted mail becomes, and where it goes; refused when it went through
/// more than `hop_limit` hops or is automatic (loops). Blocking (plugin
/// calls).
pub fn plan(
    plugins: &Plugins,
    composer: &ImComposer,
    tx: &Transaction,
    hop_limit: usize,
) -> Result<PlannedIm, Verdict> {
    let mail = incoming::parse(&tx.data, &tx.mail_from, &tx.rcpt_to, now())
        .map_err(|e| Verdict::new(Kind::Invalid, About::Content, e.to_string()))?;
    let hops = loops::check_mail_hops(&mail, hop_limit)?;
    loops::refuse_automatic(&tx.mail_from, &mail)?;
    let set = plugins.current();
    let engine = plugins.engine();
    let rcpt = tx
        .rcpt_to
        .first()
        .ok_or_else(|| Verdict::new(Kind::Invalid, About::Recipient, "No recipient"))?;
    let recipient = set
        .mapping
        .im_of_email(engine, rcpt, Role::Recipient)
        .map_err(|e| Verdict::of_plugin(e, About::Recipient))?
        .value;
    let author = incoming::author(&mail).ok_or_else(|| {
        Verdict::new(
            Kind::Invalid,
            About::Sender,
            "The mail has no sender address",
        )
    })?;
    let sender = set
        .mapping
        .im_of_email(engine, &author, Role::Sender)
        .map_err(|e| Verdict::of_plugin(e, About::Sender))?
        .value;
    let im = set
        .conversion
        .email_to_im(engine, &mail, &sender, &recipient)
        .map_err(|e| Verdict::of_plugin(e, About::Content))?;
    let mut planned = composer.plan(&im, &sender, &recipient)?;
    loops::mark_im(&mut planned.request, hops, composer.hostname());
    Ok(planned)
}

/// The e-mail → IM direction.
pub struct EmailToIm {
    plugins: Arc<Plugins>,
    composer: ImComposer,
    sender: ImSender,
    hop_limit: usize,
}

impl EmailToIm {
    /// The direction with its plugins, how it writes IMs, how it sends
    /// them, and the most `Received:` fields a mail may have.
    pub fn new(
        plugins: Arc<Plugins>,
        composer: ImComposer,
        sender: ImSender,
        hop_limit: usize,
    ) -> Self {
        Self {
            plugins,
            composer,
            sender,
            hop_limit,
        }
    }

    /// Delivers one accepted mail as an IM; the reply goes to DATA.
    pub async fn deliver(self: Arc<Self>, tx: Transaction) -> Reply {
        let this = self.clone();
        let planned = tokio::task::spawn_blocking(move || {
            plan(&this.plugins, &this.composer, &tx, this.hop_limit)
        })
        .await
        .map_err(|e| Verdict::fault(&format!("plugin task failed: {e}")))
        .and_then(|planned| planned);
        let planned = match planned {
            Ok(planned) => planned,
            Err(verdict) => return verdict.smtp_reply(),
        };
        let mode = if planned.pager { "pager" } else { "large" };
        let reply = match self.sender.deliver(&self.composer, planned).await {
            Ok(Delivered::Pager(code, reason)) => {
                Reply::new(250, "2.0.0", format!("Delivered as IM ({code} {reason})"))
            }
            Ok(Delivered::Large) => Reply::new(250, "2.0.0", "Delivered as IM (MSRP)"),
            Err(verdict) => verdict.smtp_reply(),
        };
        tracing::info!(mode, "mail delivered as IM: {reply}");
        reply
    }
}

/// RCPT TO policy (S1, S2): only served domains (no open relay), only
/// addresses the mapping plugin resolves.
pub struct RecipientPolicy(pub Arc<Plugins>);

impl RecipientCheck for RecipientPolicy {
    fn check(&self, address: &str) -> Result<(), Reply> {
        let verdict =
            |kind, reason: &str| Verdict::new(kind, About::Recipient, reason).smtp_reply();
        let Some((_, domain)) = address.rsplit_once('@') else {
            return Err(verdict(Kind::Invalid, "Bad recipient address syntax"));
        };
        let set = self.0.current();
        let engine = self.0.engine();
        match set.mapping.is_served_domain(engine, domain) {
            Ok(true) => {}
            Ok(false) => return Err(verdict(Kind::Refused, "Relaying denied")),
            Err(fault) => {
                return Err(Verdict::of_plugin(fault.into(), About::Recipient).smtp_reply());
            }
        }
        set.mapping
            .im_of_email(engine, address, Role::Recipient)
            .map(drop)
            .map_err(|e| Verdict::of_plugin(e, About::Recipient).smtp_reply())
    }
}

impl MailSink for Arc<EmailToIm> {
    fn deliver(&self, tx: Transaction) -> Pin<Box<dyn Future<Output = Reply> + Send>> {
        Box::pin(EmailToIm::deliver(self.clone(), tx))
    }
}
