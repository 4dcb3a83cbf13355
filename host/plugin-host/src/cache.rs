//! Compiled components kept on disk between runs, so that a restart or a
//! CLI call does not pay Cranelift again. Keyed by the component's SHA-256
//! and the engine's compatibility hash (wasmtime version and settings).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::Engine;
use wasmtime::component::Component;

/// A directory of `<sha256>-<engine>.cwasm` files.
pub struct CompileCache {
    dir: PathBuf,
    engine_tag: String,
}

impl CompileCache {
    /// Opens (creating it, private to this user) the cache directory.
    pub fn open(dir: PathBuf, engine: &Engine) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Whoever can write here can make the gateway run native code.
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Self {
            dir,
            engine_tag: format!("{:016x}", hasher.finish()),
        })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_tag))
    }

    /// The cached compilation of a component, if any and usable.
    pub fn get(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.path(sha256);
        if !path.exists() {
            return None;
        }
        // SAFETY: files in this directory are written only by `put` below
        // from `Component::serialize` of an engine with the same
        // compatibility hash (it is in the file name), in a directory that
        // only this user can write. wasmtime still checks the header and
        // refuses a file from another version or configuration.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &path) };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), "ignoring unusable compile cache entry: {e:#}");
                None
            }
        }
    }

    /// Keeps a compilation. Failures are logged, not fatal: the cache only
    /// saves time.
    pub fn put(&self, sha256: &str, component: &Component) {
        let path = self.path(sha256);
        let result = component
            .serialize()
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                // Write then rename, so a concurrent reader never sees half a file.
                static WRITES: AtomicU64 = AtomicU64::new(0);
                let n = WRITES.fetch_add(1, Ordering::Relaxed);
                let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
                std::fs::write(&tmp, bytes)?;
                std::fs::rename(&tmp, &path)
            });
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), "cannot write compile cache entry: {e}");
        }
    }
}
