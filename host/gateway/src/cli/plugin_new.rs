//! `interwork plugins new mapping|conversion NAME`: a plugin crate that
//! builds, with unit tests that pass, cases for `plugins test`, the
//! pinned toolchain and target, and a README with the three commands.
//! The templates are `host/gateway/templates/plugin/`, compiled in.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use interwork_plugin_host::bindings::Contract;

/// Which template.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A mapping plugin.
    Mapping,
    /// A conversion plugin.
    Conversion,
}

const CARGO_TOML: &str = include_str!("../../templates/plugin/Cargo.toml.in");
const README: &str = include_str!("../../templates/plugin/README.md.in");
const TOOLCHAIN: &str = include_str!("../../templates/plugin/rust-toolchain.toml");
const GITIGNORE: &str = include_str!("../../templates/plugin/gitignore");
const MAPPING_RS: &str = include_str!("../../templates/plugin/mapping.rs");
const CONVERSION_RS: &str = include_str!("../../templates/plugin/conversion.rs");
const MAPPING_CASES: &str = include_str!("../../templates/plugin/cases-mapping.toml");
const CONVERSION_CASES: &str = include_str!("../../templates/plugin/cases-conversion.toml");
/// The guest workspace's lock file: a new plugin starts from the versions
/// the SDK is built and tested with (cargo drops what it does not use).
const LOCK: &str = include_str!("../../../../plugins/Cargo.lock");

/// The SDK of the checkout this binary was built from.
fn built_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/sdk")
}

/// A crate name cargo takes: letters, digits, `-` and `_`, a letter first.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.len() <= 64;
    anyhow::ensure!(
        ok,
        "{name:?} is not a crate name: letters, digits, - and _, starting with a letter"
    );
    Ok(())
}

/// Writes the crate; exit 1 when NAME exists already.
pub fn run(kind: Kind, name: &str, dir: &Path, sdk: Option<&Path>) -> anyhow::Result<ExitCode> {
    check_name(name)?;
    let sdk = match sdk {
        Some(sdk) => sdk.to_path_buf(),
        None => built_sdk(),
    };
    let sdk = sdk.canonicalize().with_context(|| {
        format!(
            "no plugin SDK at {}: pass --sdk with the plugins/sdk directory of an Interwork checkout",
            sdk.display()
        )
    })?;
    anyhow::ensure!(
        sdk.join("Cargo.toml").is_file(),
        "{} is not the plugin SDK (no Cargo.toml)",
        sdk.display()
    );
    let root = dir.join(name);
    if root.exists() {
        eprintln!(
            "interwork: {} exists already; nothing written",
            root.display()
        );
        return Ok(ExitCode::from(1));
    }
    let (kind_name, source, cases, description) = match kind {
        Kind::Mapping => (
            "mapping",
            MAPPING_RS,
            MAPPING_CASES,
            format!("{name}: an Interwork address mapping plugin"),
        ),
        Kind::Conversion => (
            "conversion",
            CONVERSION_RS,
            CONVERSION_CASES,
            format!("{name}: an Interwork message conversion plugin"),
        ),
    };
    let fill = |template: &str| {
        template
            .replace("{name}", name)
            .replace("{file}", &name.replace('-', "_"))
            .replace("{kind}", kind_name)
            .replace("{description}", &description)
            .replace("{contract}", Contract::NEWEST.version())
            .replace("{sdk}", &sdk.display().to_string().replace('\\', "/"))
    };
    std::fs::create_dir_all(root.join("src"))
        .with_context(|| format!("cannot create {}", root.display()))?;
    let files: [(&str, String); 7] = [
        ("Cargo.toml", fill(CARGO_TOML)),
        ("Cargo.lock", LOCK.to_string()),
        ("rust-toolchain.toml", TOOLCHAIN.to_string()),
        (".gitignore", GITIGNORE.to_string()),
        ("README.md", fill(README)),
        ("cases.toml", cases.to_string()),
        ("src/lib.rs", fill(source)),
    ];
    for (path, text) in files {
        let path = root.join(path);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "wrote {} ({kind_name} plugin, contract {})",
        root.display(),
        Contract::NEWEST
    );
    println!("  cd {}", root.display());
    println!("  cargo test");
    println!("  cargo build --release --target wasm32-wasip2");
    println!(
        "  interwork plugins test target/wasm32-wasip2/release/{}.wasm cases.toml",
        name.replace('-', "_")
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_are_checked() {
        assert!(check_name("company-plan").is_ok());
        assert!(check_name("plan_2").is_ok());
        assert!(check_name("2plan").is_err());
        assert!(check_name("../x").is_err());
        assert!(check_name("").is_err());
    }
}
