//! The contract check a component passes before it serves: which
//! interfaces it exports and in which version, that it imports nothing the
//! host does not give, that it links, and that each exported interface
//! answers a sample call without a fault. Live reload, `plugins check` and
//! the embedded defaults all go through it.

use std::path::Path;

use crate::bindings::{Contract, mapping, types};
use crate::call::{LoadedPlugin, Role};
use crate::engine::PluginEngine;
use crate::error::{CallError, LoadError, PluginId, PluginSource};

impl PluginEngine {
    /// Compiles and links a component, and checks it against the contract:
    /// which interfaces it exports, in which version, and that it imports
    /// nothing the host does not give.
    pub fn load(&self, id: PluginId, bytes: &[u8]) -> Result<LoadedPlugin, LoadError> {
        let (component, sha256) = self.compile(&id, bytes)?;
        let refuse = |reason: String| LoadError::Contract {
            plugin: id.clone(),
            reason,
        };
        let ty = component.component_type();
        let exports: Vec<String> = ty
            .exports(self.wasm_engine())
            .map(|(n, _)| n.to_string())
            .collect();
        let imports: Vec<String> = ty
            .imports(self.wasm_engine())
            .map(|(n, _)| n.to_string())
            .collect();
        // Which contract version it speaks: the one of its mapping and
        // conversion exports, which must agree.
        let ours: Vec<&String> = exports
            .iter()
            .filter(|e| e.starts_with("interwork:plugin/"))
            .collect();
        let served = |name: &str| {
            Contract::ALL
                .into_iter()
                .find(|c| exports.iter().any(|e| *e == c.interface(name)))
        };
        let (mapping_version, conversion_version) = (served("mapping"), served("conversion"));
        let contract = match (mapping_version, conversion_version) {
            (Some(m), Some(c)) if m != c => {
                return Err(refuse(format!(
                    "exports mapping@{m} and conversion@{c}: one plugin speaks one version \
                     of the contract"
                )));
            }
            (Some(v), _) | (_, Some(v)) => v,
            (None, None) => {
                let versions = Contract::ALL.map(Contract::version).join(" and ");
                return Err(refuse(if ours.is_empty() {
                    format!(
                        "exports neither interwork:plugin/mapping nor interwork:plugin/conversion \
                         (its exports: {}); build it for the world `mapper`, `converter` or \
                         `mapper-converter` of wit/interwork-plugin/{}/",
                        list_or_none(&exports),
                        Contract::NEWEST
                    )
                } else {
                    format!(
                        "exports {} but this gateway speaks versions {versions} of the contract",
                        list_or_none(&ours)
                    )
                }));
            }
        };
        let host_imports = contract.host_imports();
        let mut trapped_imports = Vec::new();
        for import in &imports {
            if host_imports.contains(import) {
                continue;
            }
            if import.starts_with("wasi:") {
                trapped_imports.push(import.clone());
            } else {
                return Err(refuse(format!(
                    "imports {import}, which the gateway does not provide to a plugin of \
                     contract {contract} (it provides {})",
                    host_imports.join(", ")
                )));
            }
        }
        // WASI imports that a guest's standard library declares are linked
        // to functions that trap: plugins get no filesystem, network, clock
        // or randomness.
        let mut linker = self.linker().clone();
        let mut plugin = linker
            .define_unknown_imports_as_traps(&component)
            .and_then(|()| linker.instantiate_pre(&component))
            .map_err(|e| refuse(format!("cannot be linked: {e:#}")))
            .and_then(|pre| {
                LoadedPlugin::new(
                    id.clone(),
                    sha256,
                    pre,
                    contract,
                    (mapping_version.is_some(), conversion_version.is_some()),
                    trapped_imports,
                )
                .map_err(|e| refuse(format!("{e:#}")))
            })?;
        plugin.info = plugin.ask_info(self).map_err(|fault| LoadError::Check {
            call: "plugin-info.describe()".into(),
            fault,
        })?;
        Ok(plugin)
    }
}

impl LoadedPlugin {
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
        // A refusal is a fine answer; a fault names the call that made it.
        let outcome = |call: String, r: Result<(), CallError>| match r {
            Ok(()) | Err(CallError::Refused(_)) => Ok(()),
            Err(CallError::Fault(fault)) => Err(LoadError::Check { call, fault }),
        };
        if self.serves(Role::Mapping) {
            outcome(
                format!("mapping.email-of-im({sender:?}, sender)"),
                self.email_of_im(engine, &sender, mapping::Role::Sender)
                    .map(drop),
            )?;
            let address = "someone@example.invalid";
            outcome(
                format!("mapping.im-of-email({address:?}, sender)"),
                self.im_of_email(engine, address, mapping::Role::Sender)
                    .map(drop),
            )?;
            let domain = "example.invalid";
            outcome(
                format!("mapping.is-served-domain({domain:?})"),
                self.is_served_domain(engine, domain)
                    .map(drop)
                    .map_err(CallError::Fault),
            )?;
        }
        if self.serves(Role::Conversion) {
            let im = sample_im(&sender);
            let (from, to) = ("interwork-check@example.invalid", "someone@example.invalid");
            let mail = self.im_to_email(engine, &im, from, &[to.to_string()]);
            outcome(
                format!(
                    "conversion.im-to-email(a text/plain IM from {sender:?}, {from:?}, {to:?})"
                ),
                mail.map(drop),
            )?;
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
                    content_id: None,
                    body: b"check".to_vec(),
                }],
            };
            let im_sender = "sip:someone@example.invalid";
            outcome(
                format!("conversion.email-to-im(a text/plain mail, {im_sender:?}, {sender:?})"),
                self.email_to_im(engine, &mail, im_sender, &sender)
                    .map(drop),
            )?;
        }
        Ok(())
    }
}

/// Loads a plugin file and runs its check, as a reload would.
pub fn load_file(engine: &PluginEngine, path: &Path) -> Result<LoadedPlugin, LoadError> {
    let bytes = std::fs::read(path).map_err(|error| LoadError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".into());
    let id = PluginId {
        name: name.into(),
        source: PluginSource::File(path.to_path_buf()),
    };
    let plugin = engine.load(id, &bytes)?;
    plugin.check(engine)?;
    Ok(plugin)
}

fn sample_im(sender: &str) -> types::ImMessage {
    types::ImMessage {
        sender: sender.to_string(),
        recipients: vec!["sip:someone@example.invalid".into()],
        cc: Vec::new(),
        bcc: Vec::new(),
        date: types::Timestamp {
            unix_seconds: 1_764_000_000,
            offset_minutes: 0,
        },
        subject: Some("check".into()),
        content_type: "text/plain;charset=utf-8".into(),
        body: b"check".to_vec(),
        attachments: Vec::new(),
        imdn_message_id: Some("interwork-check".into()),
        dispositions: types::Dispositions::POSITIVE_DELIVERY,
        extra_headers: Vec::new(),
    }
}

fn list_or_none<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
