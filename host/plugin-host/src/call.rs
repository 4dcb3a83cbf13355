//! A plugin ready to serve: its linked `InstancePre`, which contract
//! version and interfaces it exports, and the typed calls of the contract
//! in the host's types (the newest version's), whatever version it speaks.

use wasmtime::component::InstancePre;

use crate::bindings::v0_1_0::adapt;
use crate::bindings::{Contract, conversion, mapping, plugin_info, types, v0_1_0};
use crate::engine::{LazyInstance, PluginEngine};
use crate::error::{CallError, FaultKind, GuestError, GuestFault, PluginId, RefusalKind};
use crate::host_imports::CallState;
use crate::meters::Meters;

/// What a plugin says about itself (`plugin-info.describe`, 0.2.0 and later).
pub type PluginInfo = plugin_info::Info;

/// The export indices of one contract version.
enum Exports {
    V0_1_0 {
        mapping: Option<v0_1_0::exports::interwork::plugin::mapping::GuestIndices>,
        conversion: Option<v0_1_0::exports::interwork::plugin::conversion::GuestIndices>,
    },
    V0_2_0 {
        plugin: plugin_info::GuestIndices,
        mapping: Option<mapping::GuestIndices>,
        conversion: Option<conversion::GuestIndices>,
    },
}

/// A compiled, linked, checked plugin. Immutable once loaded: a new
/// version of the file is a new `LoadedPlugin`, and calls in flight keep
/// the old one alive.
pub struct LoadedPlugin {
    /// Its name and where it came from.
    pub id: PluginId,
    /// Hex SHA-256 of the component.
    pub sha256: String,
    /// WASI imports linked to trapping functions.
    pub trapped_imports: Vec<String>,
    /// What the plugin says it is (0.2.0 plugins; `None` for 0.1.0).
    pub info: Option<PluginInfo>,
    pre: InstancePre<CallState>,
    exports: Exports,
    /// Made on the first call, once `info` names the version.
    meters: std::sync::OnceLock<Meters>,
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

    /// The interface's WIT name without version, e.g.
    /// `interwork:plugin/mapping`.
    pub fn interface(self) -> &'static str {
        match self {
            Self::Mapping => "interwork:plugin/mapping",
            Self::Conversion => "interwork:plugin/conversion",
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
        contract: Contract,
        roles: (bool, bool),
        trapped_imports: Vec<String>,
    ) -> wasmtime::Result<Self> {
        let (exports_mapping, exports_conversion) = roles;
        // GuestIndices::new checks the exported functions' types against the
        // contract, so a plugin built from an edited WIT is refused here.
        let exports = match contract {
            Contract::V0_1_0 => {
                use v0_1_0::exports::interwork::plugin as old;
                Exports::V0_1_0 {
                    mapping: exports_mapping
                        .then(|| old::mapping::GuestIndices::new(&pre))
                        .transpose()?,
                    conversion: exports_conversion
                        .then(|| old::conversion::GuestIndices::new(&pre))
                        .transpose()?,
                }
            }
            Contract::V0_2_0 => Exports::V0_2_0 {
                plugin: plugin_info::GuestIndices::new(&pre)?,
                mapping: exports_mapping
                    .then(|| mapping::GuestIndices::new(&pre))
                    .transpose()?,
                conversion: exports_conversion
                    .then(|| conversion::GuestIndices::new(&pre))
                    .transpose()?,
            },
        };
        Ok(Self {
            id,
            sha256,
            trapped_imports,
            info: None,
            pre,
            exports,
            meters: std::sync::OnceLock::new(),
        })
    }

    /// The contract version the plugin was built for.
    pub fn contract(&self) -> Contract {
        match self.exports {
            Exports::V0_1_0 { .. } => Contract::V0_1_0,
            Exports::V0_2_0 { .. } => Contract::V0_2_0,
        }
    }

    /// Whether the plugin serves `role`.
    pub fn serves(&self, role: Role) -> bool {
        match (&self.exports, role) {
            (Exports::V0_1_0 { mapping, .. }, Role::Mapping) => mapping.is_some(),
            (Exports::V0_1_0 { conversion, .. }, Role::Conversion) => conversion.is_some(),
            (Exports::V0_2_0 { mapping, .. }, Role::Mapping) => mapping.is_some(),
            (Exports::V0_2_0 { conversion, .. }, Role::Conversion) => conversion.is_some(),
        }
    }

    /// The interfaces the plugin exports, with their version, e.g.
    /// `interwork:plugin/mapping@0.2.0`.
    pub fn exports(&self) -> Vec<String> {
        Role::ALL
            .into_iter()
            .filter(|r| self.serves(*r))
            .map(|r| self.contract().interface(r.name()))
            .collect()
    }

    /// `name version` as the plugin says (`plugin-info.describe`), or its file name
    /// and contract for a plugin that cannot say.
    pub fn describe(&self) -> String {
        match &self.info {
            Some(info) => format!("{} {}", info.name, info.version),
            None => format!("{} (contract {})", self.id.name, self.contract()),
        }
    }

    fn refusal(&self, error: types::PluginError) -> CallError {
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
            kind: FaultKind::Trap(format!(
                "does not export {}",
                self.contract().interface(role.name())
            )),
        }
    }

    /// An instance of the plugin for the calls of one message. It is made
    /// on its first call and dropped with the value.
    pub fn instance<'a>(&'a self, engine: &'a PluginEngine) -> PluginInstance<'a> {
        PluginInstance {
            plugin: self,
            instance: LazyInstance::new(engine, &self.id, &self.pre, Some(self.meters())),
        }
    }

    /// The version its metrics and log lines name: what the plugin says
    /// (0.2.0), else its contract.
    pub fn version(&self) -> String {
        match &self.info {
            Some(info) => info.version.clone(),
            None => format!("contract-{}", self.contract()),
        }
    }

    /// The name its metrics and log lines name.
    pub fn name(&self) -> &str {
        match &self.info {
            Some(info) => &info.name,
            None => &self.id.name,
        }
    }

    fn meters(&self) -> &Meters {
        self.meters
            .get_or_init(|| Meters::new(self.name(), &self.version()))
    }

    /// `plugin-info.describe` on an instance of its own; `None` for 0.1.0 plugins.
    pub(crate) fn ask_info(&self, engine: &PluginEngine) -> Result<Option<PluginInfo>, GuestFault> {
        let Exports::V0_2_0 { plugin, .. } = &self.exports else {
            return Ok(None);
        };
        // Not counted: the meters are named by what this answers.
        LazyInstance::new(engine, &self.id, &self.pre, None)
            .call(0, |store, instance| {
                plugin
                    .load(&mut *store, instance)?
                    .call_describe(&mut *store)
            })
            .map(Some)
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
        recipient_addresses: &[String],
    ) -> Result<types::EmailMessage, CallError> {
        self.instance(engine)
            .im_to_email(im, sender_address, recipient_addresses)
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

    /// `conversion.send-notice` on an instance of its own.
    pub fn send_notice(
        &self,
        engine: &PluginEngine,
        notice: &conversion::Notice,
    ) -> Result<bool, GuestFault> {
        self.instance(engine).send_notice(notice)
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
        let plugin = self.plugin;
        match &plugin.exports {
            Exports::V0_2_0 {
                mapping: Some(indices),
                ..
            } => self
                .instance
                .call(0, |store, instance| {
                    indices
                        .load(&mut *store, instance)?
                        .call_email_of_im(&mut *store, im_uri, role)
                })?
                .map_err(|e| plugin.refusal(e)),
            Exports::V0_1_0 {
                mapping: Some(indices),
                ..
            } => self
                .instance
                .call(0, |store, instance| {
                    indices.load(&mut *store, instance)?.call_email_of_im(
                        &mut *store,
                        im_uri,
                        adapt::role(role),
                    )
                })?
                .map(adapt::mapped)
                .map_err(|e| plugin.refusal(adapt::error(e))),
            _ => Err(plugin.not_serving(Role::Mapping).into()),
        }
    }

    /// `mapping.im-of-email`
    pub fn im_of_email(
        &mut self,
        address: &str,
        role: mapping::Role,
    ) -> Result<mapping::Mapped, CallError> {
        let plugin = self.plugin;
        match &plugin.exports {
            Exports::V0_2_0 {
                mapping: Some(indices),
                ..
            } => self
                .instance
                .call(0, |store, instance| {
                    indices.load(&mut *store, instance)?.call_im_of_email(
                        &mut *store,
                        address,
                        role,
                    )
                })?
                .map_err(|e| plugin.refusal(e)),
            Exports::V0_1_0 {
                mapping: Some(indices),
                ..
            } => self
                .instance
                .call(0, |store, instance| {
                    indices.load(&mut *store, instance)?.call_im_of_email(
                        &mut *store,
                        address,
                        adapt::role(role),
                    )
                })?
                .map(adapt::mapped)
                .map_err(|e| plugin.refusal(adapt::error(e))),
            _ => Err(plugin.not_serving(Role::Mapping).into()),
        }
    }

    /// `mapping.is-served-domain`
    pub fn is_served_domain(&mut self, domain: &str) -> Result<bool, GuestFault> {
        let plugin = self.plugin;
        match &plugin.exports {
            Exports::V0_2_0 {
                mapping: Some(indices),
                ..
            } => self.instance.call(0, |store, instance| {
                indices
                    .load(&mut *store, instance)?
                    .call_is_served_domain(&mut *store, domain)
            }),
            Exports::V0_1_0 {
                mapping: Some(indices),
                ..
            } => self.instance.call(0, |store, instance| {
                indices
                    .load(&mut *store, instance)?
                    .call_is_served_domain(&mut *store, domain)
            }),
            _ => Err(plugin.not_serving(Role::Mapping)),
        }
    }

    /// `conversion.im-to-email`: the mail made from `im`, its envelope the
    /// mapping's results (`sender_address`, `recipient_addresses`).
    pub fn im_to_email(
        &mut self,
        im: &types::ImMessage,
        sender_address: &str,
        recipient_addresses: &[String],
    ) -> Result<types::EmailMessage, CallError> {
        let plugin = self.plugin;
        let bytes = im.body.len() + im.attachments.iter().map(|a| a.body.len()).sum::<usize>();
        let content = match &plugin.exports {
            Exports::V0_2_0 {
                conversion: Some(indices),
                ..
            } => self
                .instance
                .call(bytes, |store, instance| {
                    indices.load(&mut *store, instance)?.call_im_to_email(
                        &mut *store,
                        im,
                        sender_address,
                        recipient_addresses,
                    )
                })?
                .map_err(|e| plugin.refusal(e))?,
            Exports::V0_1_0 {
                conversion: Some(indices),
                ..
            } => {
                let old_im = adapt::im_to(im);
                let first = recipient_addresses.first().map_or("", String::as_str);
                let mail = self
                    .instance
                    .call(bytes, |store, instance| {
                        indices.load(&mut *store, instance)?.call_im_to_email(
                            &mut *store,
                            &old_im,
                            sender_address,
                            first,
                        )
                    })?
                    .map_err(|e| plugin.refusal(adapt::error(e)))?;
                let others: Vec<&str> = im
                    .recipients
                    .iter()
                    .zip(recipient_addresses)
                    .skip(1)
                    .filter(|(uri, _)| !im.bcc.contains(uri))
                    .map(|(_, address)| address.as_str())
                    .collect();
                let (content, rerouted) = adapt::content_from(mail, sender_address, first, &others);
                if rerouted {
                    tracing::warn!(
                        plugin = %plugin.id,
                        "the conversion plugin returned an envelope of its own; \
                         the mapping's is used (contract 0.1.0)"
                    );
                }
                content
            }
            _ => return Err(plugin.not_serving(Role::Conversion).into()),
        };
        // Two recipients may map to one mailbox: it gets one copy.
        let mut envelope_to: Vec<String> = Vec::with_capacity(recipient_addresses.len());
        for address in recipient_addresses {
            if !envelope_to.iter().any(|a| a.eq_ignore_ascii_case(address)) {
                envelope_to.push(address.clone());
            }
        }
        Ok(types::EmailMessage {
            envelope_from: sender_address.to_string(),
            envelope_to,
            dsn_notify: content.dsn_notify,
            date: content.date,
            headers: content.headers,
            body: content.body,
        })
    }

    /// `conversion.email-to-im`
    pub fn email_to_im(
        &mut self,
        mail: &types::EmailMessage,
        sender_im: &str,
        recipient_im: &str,
    ) -> Result<types::ImMessage, CallError> {
        let plugin = self.plugin;
        let bytes = mail.body.iter().map(|part| part.body.len()).sum();
        match &plugin.exports {
            Exports::V0_2_0 {
                conversion: Some(indices),
                ..
            } => self
                .instance
                .call(bytes, |store, instance| {
                    indices.load(&mut *store, instance)?.call_email_to_im(
                        &mut *store,
                        mail,
                        sender_im,
                        recipient_im,
                    )
                })?
                .map_err(|e| plugin.refusal(e)),
            Exports::V0_1_0 {
                conversion: Some(indices),
                ..
            } => {
                let old_mail = adapt::email_to(mail);
                self.instance
                    .call(bytes, |store, instance| {
                        indices.load(&mut *store, instance)?.call_email_to_im(
                            &mut *store,
                            &old_mail,
                            sender_im,
                            recipient_im,
                        )
                    })?
                    .map(adapt::im_from)
                    .map_err(|e| plugin.refusal(adapt::error(e)))
            }
            _ => Err(plugin.not_serving(Role::Conversion).into()),
        }
    }

    /// `conversion.send-notice`: whether a receipt is sent. A 0.1.0 plugin
    /// has no say: the configuration decides.
    pub fn send_notice(&mut self, notice: &conversion::Notice) -> Result<bool, GuestFault> {
        let plugin = self.plugin;
        match &plugin.exports {
            Exports::V0_2_0 {
                conversion: Some(indices),
                ..
            } => self.instance.call(0, |store, instance| {
                indices
                    .load(&mut *store, instance)?
                    .call_send_notice(&mut *store, notice)
            }),
            Exports::V0_1_0 {
                conversion: Some(_),
                ..
            } => Ok(notice.configured),
            _ => Err(plugin.not_serving(Role::Conversion)),
        }
    }
}
