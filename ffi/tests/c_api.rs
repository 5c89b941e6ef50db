//! The C ABI as a C or C++ user meets it: compile the C example, the C error tests and a C++17
//! translation unit against `include/etd.h` and the release `libetd.a`, run them, and check.
//!
//! The static library comes from `cargo build --release -p etd-ffi`, which this test runs
//! itself (a no-op when it is up to date), so a plain `cargo test` from a fresh clone works.
//! Set `ETD_SKIP_C_TESTS=1` to skip when no C compiler is available; set `CC` / `CXX` to pick
//! the compilers (default `cc` / `c++`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const C_FLAGS: &[&str] = &[
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O2",
];
const CXX_FLAGS: &[&str] = &[
    "-std=c++17",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O2",
];
/// What the static library needs on Linux besides itself (`-lpthread -ldl` for older glibc).
const LINK: &[&str] = &["-lm", "-lpthread", "-ldl"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn skip() -> bool {
    let skip = std::env::var_os("ETD_SKIP_C_TESTS").is_some_and(|v| v != "0");
    if skip {
        eprintln!("ETD_SKIP_C_TESTS is set: skipping the C/C++ tests");
    }
    skip
}

/// Builds the release static library once per test run and returns its path.
fn static_lib() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| cargo_build_static_lib(&[]))
}

/// `cargo build --release -p etd-ffi` with `extra` arguments; the path of its `libetd.a`.
fn cargo_build_static_lib(extra: &[&str]) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root())
        .args([
            "build",
            "--release",
            "-p",
            "etd-ffi",
            "--message-format=json",
        ])
        .args(extra)
        .output()
        .expect("run cargo build --release -p etd-ffi");
    assert!(
        output.status.success(),
        "cargo build --release -p etd-ffi {extra:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The artifact message of the ffi crate lists libetd.a among its filenames.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lib = stdout
        .split('"')
        .find(|s| s.ends_with("/libetd.a"))
        .map(PathBuf::from)
        .expect("cargo did not report libetd.a");
    assert!(lib.is_file(), "{} is missing", lib.display());
    lib
}

/// Compiles `source` with `compiler` and `flags` against the header and the static library.
fn compile(compiler_var: &str, default: &str, flags: &[&str], source: &Path) -> PathBuf {
    let compiler = std::env::var(compiler_var).unwrap_or_else(|_| default.to_owned());
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("etd-c");
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join(source.file_stem().unwrap());
    let output = Command::new(&compiler)
        .args(flags)
        .arg("-I")
        .arg(root().join("include"))
        .arg(source)
        .arg(static_lib())
        .args(LINK)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e} (set ETD_SKIP_C_TESTS=1 to skip)"));
    assert!(
        output.status.success(),
        "{compiler} {} failed:\n{}",
        source.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

/// Runs `exe`, asserts it succeeded, and returns its standard output.
fn run(exe: &Path) -> String {
    let output = Command::new(exe)
        .output()
        .expect("run the compiled program");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{stdout}");
    assert!(
        output.status.success(),
        "{} failed ({}):\n{stdout}{}",
        exe.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Pulls the numbers after `label` on the line starting with `prefix`.
fn numbers(text: &str, prefix: &str, label: &str) -> Vec<f64> {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"));
    let rest = &line[line.find(label).expect(label) + label.len()..];
    rest.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter(|s| !s.is_empty() && *s != "-")
        .map_while(|s| s.parse().ok())
        .collect()
}

#[test]
fn c_example_samples_the_mixture_with_both_apis() {
    if skip() {
        return;
    }
    let exe = compile("CC", "cc", C_FLAGS, &root().join("examples/c/mixture.c"));
    let out = run(&exe);
    // The program checks itself; check its printed numbers here too, against the truth:
    // mean 0, covariance diag(10, 10), N/4 = 16 particles per mode.
    for api in ["f64:", "f32:"] {
        let mean = numbers(&out, &format!("{api} mean"), "mean (");
        let cov = numbers(&out, &format!("{api} mean"), "cov [[");
        let modes = numbers(&out, &format!("{api} mean"), "per mode ");
        assert!(
            mean[..2].iter().all(|m| m.abs() < 0.75),
            "{api} mean {mean:?}"
        );
        assert!(
            (7.0..13.0).contains(&cov[0]) && (7.0..13.0).contains(&cov[3]),
            "{cov:?}"
        );
        assert!(cov[1].abs() < 2.0, "{api} covariance {cov:?}");
        assert!(
            modes[..4].iter().all(|c| (8.0..=24.0).contains(c)),
            "{modes:?}"
        );
    }
}

#[test]
fn c_filter_example_tracks_the_robot_with_transport_and_resampling() {
    if skip() {
        return;
    }
    let exe = compile("CC", "cc", C_FLAGS, &root().join("examples/c/filter.c"));
    let out = run(&exe);
    let rmse = numbers(&out, "filter:", "transport ");
    let baseline = numbers(&out, "filter:", "systematic ");
    // Both filters read four landmarks at 0.3 m range noise: a few tenths of a metre.
    assert!(rmse[0] < 0.3 && baseline[0] < 0.3, "{out}");
}

#[test]
fn c_error_paths_return_their_codes_and_leave_particles_unchanged() {
    if skip() {
        return;
    }
    let exe = compile("CC", "cc", C_FLAGS, &root().join("ffi/tests/c/errors.c"));
    assert!(run(&exe).contains("all checks passed"));
}

#[test]
fn cpp17_translation_unit_uses_the_header() {
    if skip() {
        return;
    }
    let exe = compile(
        "CXX",
        "c++",
        CXX_FLAGS,
        &root().join("ffi/tests/cpp/api.cpp"),
    );
    assert!(run(&exe).starts_with("C++: etd "));
}

#[test]
fn readme_c_example_compiles_and_runs() {
    if skip() {
        return;
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("<!-- ffi:begin -->")
        .nth(1)
        .and_then(|s| s.split("<!-- ffi:end -->").next())
        .expect("README has the ffi section");
    let code = section
        .split("```c\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("the ffi section has a C example");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("etd-c");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("readme_example.c");
    std::fs::write(&source, code).unwrap();
    run(&compile("CC", "cc", C_FLAGS, &source));
}

/// The bare-metal build: `cargo build --release -p etd-ffi --target thumbv7em-none-eabihf
/// --no-default-features`, then a C firmware links its `libetd.a` with no system libraries.
/// Skipped when `arm-none-eabi-gcc` is not installed.
#[test]
fn thumbv7em_static_library_links_into_c_firmware() {
    if skip() {
        return;
    }
    let gcc = "arm-none-eabi-gcc";
    if Command::new(gcc).arg("--version").output().is_err() {
        eprintln!("{gcc} not found: skipping the firmware link test");
        return;
    }
    let target = "thumbv7em-none-eabihf";
    let flags = ["--target", target, "--no-default-features"];
    let lib = cargo_build_static_lib(&flags);
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("etd-c/firmware.elf");
    let output = Command::new(gcc)
        .args([
            "-mcpu=cortex-m4",
            "-mthumb",
            "-mfloat-abi=hard",
            "-mfpu=fpv4-sp-d16",
        ])
        .args(C_FLAGS)
        .args([
            "--specs=nosys.specs",
            "-Wl,--gc-sections",
            "-Wl,--no-warn-execstack",
        ])
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join("ffi/tests/c/firmware.c"))
        .arg(&lib)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run arm-none-eabi-gcc");
    assert!(
        output.status.success(),
        "linking {} into C firmware failed:\n{}",
        lib.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}
