//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) and the named
//! crash regressions (`fuzz/regressions/<target>/`) through the same harness
//! functions the fuzz targets call, on stable, as part of `cargo test`.

use std::fs;
use std::path::Path;

use sockframe::fuzzing::TARGETS;

fn replay(dir: &Path, harness: fn(&[u8])) -> usize {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let mut n = 0;
    for entry in entries {
        let path = entry.expect("corpus entry").path();
        let data = fs::read(&path).expect("corpus file");
        // A failing input names itself before the harness panics.
        eprintln!("replaying {}", path.display());
        harness(&data);
        n += 1;
    }
    n
}

#[test]
fn every_target_has_a_seed_corpus_and_replays_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, harness) in TARGETS {
        let seeds = replay(&root.join("corpus").join(name), *harness);
        assert!(seeds > 0, "fuzz target {name} has no committed seed corpus");
        replay(&root.join("regressions").join(name), *harness);
    }
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in TARGETS {
        assert!(root.join("fuzz_targets").join(format!("{name}.rs")).is_file(), "no fuzz_targets/{name}.rs");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{name} missing from fuzz/Cargo.toml");
    }
}
