//! Receipts that cross the gateway (issue 10): each side's native
//! notification becomes the other side's.
//!
//! * IM → mail: an IM's IMDN delivery request becomes DSN `NOTIFY=` on the
//!   mail's envelope (the SMTP client); the DSNs (RFC 3464) and MDNs
//!   (RFC 8098) that come back, and the spool giving a mail up, become IMDN
//!   delivery and display notifications (RFC 5438) to the IM's sender
//!   ([`to_im`], written by [`imdn_out`]).
//! * Mail → IM: an IMDN from the IM side about an IM made from a mail
//!   becomes a success DSN or an MDN for the mail's sender, when the mail
//!   asked for one ([`to_mail`]), at most once per message.
//!
//! Notifications are never notified in turn: a DSN or MDN goes out from the
//! null reverse-path, an IMDN asks for no IMDN, and a notification about a
//! message the store does not know (or no longer knows) is dropped with a
//! log line, never turned into a chat or a mail.

pub mod imdn_out;
pub mod to_im;
pub mod to_mail;

use interwork_plugin_host::Plugins;
use interwork_plugin_host::bindings::conversion::{Notice, NoticeKind};

/// Who decides which receipts are sent: the operator's `[notifications]`
/// and, when there are plugins, the conversion plugin's `send-notice`.
#[derive(Clone, Copy)]
pub struct NoticePolicy<'a> {
    /// `[notifications]`
    pub config: &'a crate::config::NotificationsConfig,
    /// The plugins; `None` leaves it to the configuration (unit tests).
    pub plugins: Option<&'a Plugins>,
}

impl NoticePolicy<'_> {
    /// Whether a receipt is sent (see [`decide`]).
    pub fn decide(
        &self,
        kind: NoticeKind,
        im_user: &str,
        mail_user: &str,
        configured: bool,
    ) -> bool {
        decide(self.plugins, kind, im_user, mail_user, configured)
    }
}

/// Whether a receipt is sent: the conversion plugin's `send-notice` says,
/// given what the operator's `[notifications]` say (`configured`); a
/// plugin that faults leaves it to the configuration, logged. Without
/// plugins (unit tests) the configuration decides.
pub fn decide(
    plugins: Option<&Plugins>,
    kind: NoticeKind,
    im_user: &str,
    mail_user: &str,
    configured: bool,
) -> bool {
    let Some(plugins) = plugins else {
        return configured;
    };
    let notice = Notice {
        kind,
        im_user: im_user.to_string(),
        mail_user: mail_user.to_string(),
        configured,
    };
    let set = plugins.current();
    match set.conversion.send_notice(plugins.engine(), &notice) {
        Ok(send) => {
            if send != configured {
                tracing::info!(?kind, im_user, mail_user, send, plugin = %set.conversion.id, "the conversion plugin decided the receipt against the configuration");
            }
            send
        }
        Err(fault) => {
            tracing::warn!(?kind, "{fault}; the configuration decides the receipt");
            configured
        }
    }
}
