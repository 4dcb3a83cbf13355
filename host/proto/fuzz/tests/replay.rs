//! Every committed input of every fuzz target, run through the target on
//! stable Rust: the RFC vectors of `testdata/` (the seed corpus) and the
//! minimised crash inputs of `crashes/<target>/` (fixed bugs, kept so they
//! stay fixed). A target that panics on one of them fails this test.

use std::path::{Path, PathBuf};

/// The `testdata/` folder holding each target's seeds.
fn seed_dir(target: &str) -> &str {
    match target {
        "sip_datagram" | "sip_stream" => "sip",
        "msrp_frame" | "msrp_reassembly" => "msrp",
        "imdn_xml" => "imdn",
        "smtp_session" => "smtp",
        "smtp_reply" => "smtp-reply",
        other => other,
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn seeds_and_crash_inputs_pass_every_target() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let testdata = here.join("../../../testdata");
    let mut ran = 0;
    for (target, run) in interwork_proto_fuzz::TARGETS {
        let seeds = files(&testdata.join(seed_dir(target)));
        assert!(
            !seeds.is_empty(),
            "{target}: no seeds in testdata/{}",
            seed_dir(target)
        );
        for input in seeds
            .iter()
            .chain(&files(&here.join("crashes").join(target)))
        {
            let bytes = std::fs::read(input).expect("readable input");
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(outcome.is_ok(), "{target} fails on {}", input.display());
            ran += 1;
        }
    }
    eprintln!("{ran} inputs replayed");
    assert!(ran >= 40, "only {ran} inputs");
}
