//! `include/etd.h` must equal a fresh cbindgen generation from this crate.
//!
//! Update the committed header with `ETD_BLESS=1 cargo test -p etd-ffi --test header`.

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("ffi/cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed to generate include/etd.h");
    let mut bytes = Vec::new();
    bindings.write(&mut bytes);
    String::from_utf8(bytes).expect("cbindgen wrote UTF-8")
}

fn header_path() -> PathBuf {
    crate_dir().join("../include/etd.h")
}

#[test]
fn committed_header_matches_cbindgen() {
    let fresh = generate();
    let path = header_path();
    if std::env::var_os("ETD_BLESS").is_some_and(|v| v != "0") {
        std::fs::write(&path, &fresh).expect("write include/etd.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let line = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(fresh.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "{} is out of date with ffi/src (first difference at line {line}).\n\
             Regenerate it with: ETD_BLESS=1 cargo test -p etd-ffi --test header\n\
             then review and commit the diff.",
            display(&path)
        );
    }
}

fn display(path: &Path) -> String {
    path.canonicalize()
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
