//! A plugin ready to serve: its linked `InstancePre`, which interfaces it
//! exports, and the typed calls of the contract.

use wasmtime::component::InstancePre;

use crate::bindings::{conversion, mapping, names, types};
use crate::engine::{LazyInstance, PluginEngine};
use crate::error::{CallError, FaultKind, GuestError, GuestFault, PluginId, RefusalKind};
use crate::host_imports::CallState;

/// A compiled, linked, checked plugin. Immutable: a new version of the file
/// is a new `LoadedPlugin`, and calls in flight keep the old one alive.
pub struct LoadedPlugin {
    /// Its name and where it came from.
    pub id: PluginId,
    /// Hex SHA-256 of the component.
    pub sha256: String,
    /// WASI imports linked to trapping functions.
    pub trapped_imports: Vec<String>,
    pre: InstancePre<CallState>,
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
    /// `interwork:plugin/mapping`
    Mapping,
    /// `interwork:plugin/conversion`
    Conversion,
}

impl Role {
    /// Every interface.
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
    /// Wraps a linked component whose exports were checked by the loader.
    pub(crate) fn new(
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

    /// An instance of the plugin for the calls of one message. It is made
    /// on its first call and dropped with the value.
    pub fn instance<'a>(&'a self, engine: &'a PluginEngine) -> PluginInstance<'a> {
        PluginInstance {
            plugin: self,
            instance: LazyInstance::new(engine, &self.id, &self.pre),
        }
    }

    /// `mapping.email-of-im` on an instance of its own.
    pub fn email_of_im(
        &self,
        engine: &PluginEngine,
        im_uri: &str,
        role: mapping::Role,
    ) -> Result<mapping::Mapped, CallError> {
        self.instance(engine).email_of_im(im_uri, role)
    }

    /// `mapping.im-of-email` on an instance of its own.
    pub fn im_of_email(
        &self,
        engine: &PluginEngine,
        address: &str,
        role: mapping::Role,
    ) -> Result<mapping::Mapped, CallError> {
        self.instance(engine).im_of_email(address, role)
    }

    /// `mapping.is-served-domain` on an instance of its own.
    pub fn is_served_domain(
        &self,
        engine: &PluginEngine,
        domain: &str,
    ) -> Result<bool, GuestFault> {
        self.instance(engine).is_served_domain(domain)
    }

    /// `conversion.im-to-email` on an instance of its own.
    pub fn im_to_email(
        &self,
        engine: &PluginEngine,
        im: &types::ImMessage,
        sender_address: &str,
        recipient_address: &str,
    ) -> Result<types::EmailMessage, CallError> {
        self.instance(engine)
            .im_to_email(im, sender_address, recipient_address)
    }

    /// `conversion.email-to-im` on an instance of its own.
    pub fn email_to_im(
        &self,
        engine: &PluginEngine,
        mail: &types::EmailMessage,
        sender_im: &str,
        recipient_im: &str,
    ) -> Result<types::ImMessage, CallError> {
        self.instance(engine)
            .email_to_im(mail, sender_im, recipient_im)
    }
}

/// One plugin's instance for the calls of one message (see
/// [`LoadedPlugin::instance`]): the calls share the guest's state, as the
/// calls of one message may; the next message gets a fresh instance. Every
/// call has a deadline of its own, the memory cap holds for the instance,
/// and a fault drops the instance so that a later call starts afresh.
pub struct PluginInstance<'a> {
    plugin: &'a LoadedPlugin,
    instance: LazyInstance<'a>,
}

impl PluginInstance<'_> {
    /// `mapping.email-of-im`
    pub fn email_of_im(
        &mut self,
        im_uri: &str,
        role: mapping::Role,
    ) -> Result<mapping::Mapped, CallError> {
        let indices = self.plugin.mapping_indices()?;
        self.instance
            .call(0, |store, instance| {
                indices
                    .load(&mut *store, instance)?
                    .call_email_of_im(&mut *store, im_uri, role)
            })?
            .map_err(|e| self.plugin.refused(e))
    }

    /// `mapping.im-of-email`
    pub fn im_of_email(
        &mut self,
        address: &str,
        role: mapping::Role,
    ) -> Result<mapping::Mapped, CallError> {
        let indices = self.plugin.mapping_indices()?;
        self.instance
            .call(0, |store, instance| {
                indices
                    .load(&mut *store, instance)?
                    .call_im_of_email(&mut *store, address, role)
            })?
            .map_err(|e| self.plugin.refused(e))
    }

    /// `mapping.is-served-domain`
    pub fn is_served_domain(&mut self, domain: &str) -> Result<bool, GuestFault> {
        let indices = self.plugin.mapping_indices()?;
        self.instance.call(0, |store, instance| {
            indices
                .load(&mut *store, instance)?
                .call_is_served_domain(&mut *store, domain)
        })
    }

    /// `conversion.im-to-email`
    pub fn im_to_email(
        &mut self,
        im: &types::ImMessage,
        sender_address: &str,
        recipient_address: &str,
    ) -> Result<types::EmailMessage, CallError> {
        let indices = self.plugin.conversion_indices()?;
        self.instance
            .call(im.body.len(), |store, instance| {
                indices.load(&mut *store, instance)?.call_im_to_email(
                    &mut *store,
                    im,
                    sender_address,
                    recipient_address,
                )
            })?
            .map_err(|e| self.plugin.refused(e))
    }

    /// `conversion.email-to-im`
    pub fn email_to_im(
        &mut self,
        mail: &types::EmailMessage,
        sender_im: &str,
        recipient_im: &str,
    ) -> Result<types::ImMessage, CallError> {
        let indices = self.plugin.conversion_indices()?;
        let bytes = mail.body.iter().map(|part| part.body.len()).sum();
        self.instance
            .call(bytes, |store, instance| {
                indices.load(&mut *store, instance)?.call_email_to_im(
                    &mut *store,
                    mail,
                    sender_im,
                    recipient_im,
                )
            })?
            .map_err(|e| self.plugin.refused(e))
    }
}
