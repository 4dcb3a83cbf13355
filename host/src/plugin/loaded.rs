//! A plugin ready to serve: its linked `InstancePre`, which interfaces it
//! exports, and the typed calls of the contract.

use wasmtime::component::InstancePre;

use super::bindings::{conversion, mapping, names, types};
use super::engine::PluginEngine;
use super::error::{
    CallError, FaultKind, GuestError, GuestFault, LoadError, PluginId, RefusalKind,
};
use super::host_api::CallState;

/// A compiled, linked, checked plugin. Immutable: a new version of the file
/// is a new `LoadedPlugin`, and calls in flight keep the old one alive.
pub struct LoadedPlugin {
    pub id: PluginId,
    /// Hex SHA-256 of the component.
    pub sha256: String,
    /// WASI imports linked to trapping functions.
    pub trapped_imports: Vec<String>,
    pub(super) pre: InstancePre<CallState>,
    mapping: Option<mapping::GuestIndices>,
    conversion: Option<conversion::GuestIndices>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.id)
            .field("sha256", &self.sha256)
            .field("exports", &self.exports())
            .finish_non_exhaustive()
    }
}

/// An interface a plugin can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Mapping,
    Conversion,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Mapping, Role::Conversion];

    /// The interface's qualified WIT name.
    pub fn interface(self) -> &'static str {
        match self {
            Self::Mapping => names::MAPPING,
            Self::Conversion => names::CONVERSION,
        }
    }

    /// The name used in configuration (`plugins.mapping`) and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mapping => "mapping",
            Self::Conversion => "conversion",
        }
    }
}

impl LoadedPlugin {
    pub(super) fn new(
        id: PluginId,
        sha256: String,
        pre: InstancePre<CallState>,
        exports_mapping: bool,
        exports_conversion: bool,
        trapped_imports: Vec<String>,
    ) -> wasmtime::Result<Self> {
        // GuestIndices::new checks the exported functions' types against the
        // contract, so a plugin built from an edited WIT is refused here.
        let mapping = exports_mapping
            .then(|| mapping::GuestIndices::new(&pre))
            .transpose()?;
        let conversion = exports_conversion
            .then(|| conversion::GuestIndices::new(&pre))
            .transpose()?;
        Ok(Self {
            id,
            sha256,
            trapped_imports,
            pre,
            mapping,
            conversion,
        })
    }

    /// Whether the plugin serves `role`.
    pub fn serves(&self, role: Role) -> bool {
        match role {
            Role::Mapping => self.mapping.is_some(),
            Role::Conversion => self.conversion.is_some(),
        }
    }

    /// The interfaces the plugin exports.
    pub fn exports(&self) -> Vec<&'static str> {
        Role::ALL
            .into_iter()
            .filter(|r| self.serves(*r))
            .map(Role::interface)
            .collect()
    }

    fn refused(&self, error: types::PluginError) -> CallError {
        CallError::Refused(GuestError {
            plugin: self.id.clone(),
            kind: match error.kind {
                types::ErrorKind::NotFound => RefusalKind::NotFound,
                types::ErrorKind::Invalid => RefusalKind::Invalid,
                types::ErrorKind::Temporary => RefusalKind::Temporary,
                types::ErrorKind::Permanent => RefusalKind::Permanent,
            },
            reason: error.reason,
        })
    }

    fn not_serving(&self, role: Role) -> GuestFault {
        GuestFault {
            plugin: self.id.clone(),
            kind: FaultKind::Trap(format!("does not export {}", role.interface())),
        }
    }

    fn mapping_indices(&self) -> Result<&mapping::GuestIndices, GuestFault> {
        self.mapping
            .as_ref()
            .ok_or_else(|| self.not_serving(Role::Mapping))
    }

    fn conversion_indices(&self) -> Result<&conversion::GuestIndices, GuestFault> {
        self.conversion
            .as_ref()
            .ok_or_else(|| self.not_serving(Role::Conversion))
    }

    /// `mapping.email-of-im`
    pub fn email_of_im(
        &self,
        engine: &PluginEngine,
        im_uri: &str,
        role: mapping::Role,
    ) -> Result<mapping::Mapped, CallError> {
        let indices = self.mapping_indices()?;
        engine
            .call(self, |store, instance| {
                indices
                    .load(&mut *store, instance)?
                    .call_email_of_im(&mut *store, im_uri, role)
            })?
            .map_err(|e| self.refused(e))
    }

    /// `mapping.im-of-email`
    pub fn im_of_email(
        &self,
        engine: &PluginEngine,
        address: &str,
        role: mapping::Role,
    ) -> Result<mapping::Mapped, CallError> {
        let indices = self.mapping_indices()?;
        engine
            .call(self, |store, instance| {
                indices
                    .load(&mut *store, instance)?
                    .call_im_of_email(&mut *store, address, role)
            })?
            .map_err(|e| self.refused(e))
    }

    /// `mapping.is-served-domain`
    pub fn is_served_domain(
        &self,
        engine: &PluginEngine,
        domain: &str,
    ) -> Result<bool, GuestFault> {
        let indices = self.mapping_indices()?;
        engine.call(self, |store, instance| {
            indices
                .load(&mut *store, instance)?
                .call_is_served_domain(&mut *store, domain)
        })
    }

    /// `conversion.im-to-email`
    pub fn im_to_email(
        &self,
        engine: &PluginEngine,
        im: &types::ImMessage,
        sender_address: &str,
        recipient_address: &str,
    ) -> Result<types::EmailMessage, CallError> {
        let indices = self.conversion_indices()?;
        engine
            .call(self, |store, instance| {
                indices.load(&mut *store, instance)?.call_im_to_email(
                    &mut *store,
                    im,
                    sender_address,
                    recipient_address,
                )
            })?
            .map_err(|e| self.refused(e))
    }

    /// `conversion.email-to-im`
    pub fn email_to_im(
        &self,
        engine: &PluginEngine,
        mail: &types::EmailMessage,
        sender_im: &str,
        recipient_im: &str,
    ) -> Result<types::ImMessage, CallError> {
        let indices = self.conversion_indices()?;
        engine
            .call(self, |store, instance| {
                indices.load(&mut *store, instance)?.call_email_to_im(
                    &mut *store,
                    mail,
                    sender_im,
                    recipient_im,
                )
            })?
            .map_err(|e| self.refused(e))
    }

    /// The check a plugin passes before it serves (live reload, `plugins
    /// check`): each exported interface answers a sample call without a
    /// fault. A refusal is a fine answer; a trap, time-out or memory blow-up
    /// is not.
    pub fn check(&self, engine: &PluginEngine) -> Result<(), LoadError> {
        let im_domain = engine
            .context()
            .im_domains
            .first()
            .cloned()
            .unwrap_or_else(|| "im.example.test".into());
        let sender = format!("sip:interwork-check@{im_domain}");
        let outcome = |r: Result<(), CallError>| match r {
            Ok(()) | Err(CallError::Refused(_)) => Ok(()),
            Err(CallError::Fault(fault)) => Err(LoadError::Check(fault)),
        };
        if self.mapping.is_some() {
            outcome(
                self.email_of_im(engine, &sender, mapping::Role::Sender)
                    .map(drop),
            )?;
            outcome(
                self.im_of_email(engine, "someone@example.invalid", mapping::Role::Sender)
                    .map(drop),
            )?;
            self.is_served_domain(engine, "example.invalid")
                .map_err(LoadError::Check)?;
        }
        if self.conversion.is_some() {
            let im = sample_im(&sender);
            let mail = self.im_to_email(
                engine,
                &im,
                "interwork-check@example.invalid",
                "someone@example.invalid",
            );
            outcome(mail.map(drop))?;
            let mail = types::EmailMessage {
                envelope_from: "someone@example.invalid".into(),
                envelope_to: vec![format!("interwork-check@{im_domain}")],
                dsn_notify: types::DsnNotify::empty(),
                date: Some(im.date),
                headers: vec![types::Header {
                    name: "Subject".into(),
                    value: "check".into(),
                }],
                body: vec![types::MailPart {
                    content_type: "text/plain; charset=utf-8".into(),
                    disposition: None,
                    filename: None,
                    body: b"check".to_vec(),
                }],
            };
            outcome(
                self.email_to_im(engine, &mail, "sip:someone@example.invalid", &sender)
                    .map(drop),
            )?;
        }
        Ok(())
    }
}

fn sample_im(sender: &str) -> types::ImMessage {
    types::ImMessage {
        sender: sender.to_string(),
        recipients: vec!["sip:someone@example.invalid".into()],
        date: types::Timestamp {
            unix_seconds: 1_764_000_000,
            offset_minutes: 0,
        },
        subject: Some("check".into()),
        content_type: "text/plain;charset=utf-8".into(),
        body: b"check".to_vec(),
        imdn_message_id: Some("interwork-check".into()),
        dispositions: types::Dispositions::POSITIVE_DELIVERY,
        extra_headers: Vec::new(),
    }
}
