//! The host imports as a plugin calls them. In a component (`wasm32`) they
//! are the gateway's; built for the build machine (`cargo test`) they read
//! the fake host a test installed ([`crate::testing::Host`]).

/// The gateway's settings that plugins may read (`interwork:plugin/config`).
pub mod config {
    #[cfg(target_arch = "wasm32")]
    use crate::bindings::mapper::interwork::plugin::config as imported;

    /// IM domains the gateway serves (SPEC S1), in configuration order.
    pub fn im_domains() -> Vec<String> {
        #[cfg(target_arch = "wasm32")]
        return imported::im_domains();
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with_host(|h| h.im_domains.clone());
    }

    /// The gateway's own mail domains (SPEC S1, option 2).
    pub fn mail_domains() -> Vec<String> {
        #[cfg(target_arch = "wasm32")]
        return imported::mail_domains();
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with_host(|h| h.mail_domains.clone());
    }

    /// A value of the gateway's `[plugins.config]` table, as text.
    pub fn get(key: &str) -> Option<String> {
        #[cfg(target_arch = "wasm32")]
        return imported::get(key);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with_host(|h| h.config.get(key).cloned());
    }
}

/// The directory of provisioned addresses (`interwork:plugin/directory`).
pub mod directory {
    #[cfg(target_arch = "wasm32")]
    use crate::bindings::mapper::interwork::plugin::directory as imported;

    /// The provisioned e-mail address of an IM identity.
    pub fn email_of(im_uri: &str) -> Option<String> {
        #[cfg(target_arch = "wasm32")]
        return imported::email_of(im_uri);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with_host(|h| {
            h.directory
                .iter()
                .find(|(im, _)| im.eq_ignore_ascii_case(im_uri))
                .map(|(_, mail)| mail.clone())
        });
    }

    /// The IM identity a provisioned e-mail address belongs to.
    pub fn im_of(address: &str) -> Option<String> {
        #[cfg(target_arch = "wasm32")]
        return imported::im_of(address);
        #[cfg(not(target_arch = "wasm32"))]
        return crate::testing::with_host(|h| {
            h.directory
                .iter()
                .find(|(_, mail)| mail.eq_ignore_ascii_case(address))
                .map(|(im, _)| im.clone())
        });
    }
}

/// Log lines, written by the gateway with the plugin's name
/// (`interwork:plugin/log`).
pub mod log {
    pub use crate::bindings::mapper::interwork::plugin::log::Level;

    /// Writes one line to the gateway's log.
    pub fn log(level: Level, message: &str) {
        #[cfg(target_arch = "wasm32")]
        crate::bindings::mapper::interwork::plugin::log::log(level, message);
        #[cfg(not(target_arch = "wasm32"))]
        crate::testing::record_log(level, message);
    }

    /// `log(Level::Debug, …)`
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }

    /// `log(Level::Info, …)`
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// `log(Level::Warn, …)`
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// `log(Level::Error, …)`
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}
