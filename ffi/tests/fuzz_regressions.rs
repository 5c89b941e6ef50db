//! Replays every input kept in `ffi/fuzz/regressions/`, each of which once made a fuzz target
//! fail, through the fuzz harnesses themselves (their sources are included from
//! `ffi/fuzz/src`, so the same contract checks run here, in `cargo test` and under Miri).
//! A new finding goes into that directory and into the list below.

#[path = "../fuzz/src/abi.rs"]
mod abi;
#[path = "../fuzz/src/input.rs"]
mod input;
#[path = "../fuzz/src/sampler.rs"]
mod sampler;
#[path = "../fuzz/src/sinkhorn.rs"]
mod sinkhorn;

/// Kept inputs of one target: file name and bytes.
type Kept = &'static [(&'static str, &'static [u8])];

macro_rules! kept {
    ($target:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../fuzz/regressions/", $target, "/", $name)))),*]
    };
}

/// `etd_sinkhorn_*` findings.
const SINKHORN: Kept = kept!("sinkhorn":
    // epsilon = f64::MAX was accepted, and the potentials `epsilon * u` overflowed to inf.
    "epsilon-max-overflows-potentials",
);

/// `etd_sampler_*` findings.
const SAMPLER: Kept = kept!("sampler":);

#[test]
fn sinkhorn_findings_stay_fixed() {
    for (name, data) in SINKHORN {
        println!("{name}");
        sinkhorn::run(data);
    }
}

#[test]
fn sampler_findings_stay_fixed() {
    for (name, data) in SAMPLER {
        println!("{name}");
        sampler::run(data);
    }
}

/// Every file in `ffi/fuzz/regressions/` is in one of the lists above.
#[test]
#[cfg_attr(miri, ignore = "reads a directory (Miri isolates the file system)")]
fn every_kept_input_is_replayed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for (target, kept) in [("sinkhorn", SINKHORN), ("sampler", SAMPLER)] {
        // A target without findings has no directory (git keeps no empty one).
        let mut files: Vec<String> = std::fs::read_dir(root.join(target))
            .into_iter()
            .flatten()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let mut listed: Vec<String> = kept.iter().map(|(name, _)| name.to_string()).collect();
        listed.sort();
        assert_eq!(
            files, listed,
            "ffi/fuzz/regressions/{target} and the list differ"
        );
    }
}
