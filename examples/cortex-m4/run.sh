#!/usr/bin/env bash
# Builds and runs the Cortex-M4F firmwares under QEMU (mps2-an386) and prints the measurements.
#
#   examples/cortex-m4/run.sh            # from anywhere; exits non-zero on any failure
#
# Needs (installs nothing): rustup target thumbv7em-none-eabihf, qemu-system-arm,
# gcc-arm-none-eabi + libnewlib-arm-none-eabi (the C firmware and arm-none-eabi-size/nm).
# Runs, in order: the Rust firmware with libm maths and with the micromath fast path (each
# self-checks mean, variance and mode shares and exits 1 if wrong), the stage profile, the
# second shape for the RAM formula, the particle-filter firmware (etd-filter: self-checks its
# final pose error) with the categorical and with the rounded update, the defmt build, and the
# C firmware linking libetd.a.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
out="$target_dir/etd-cortex-m4"
bin_dir="$target_dir/thumbv7em-none-eabihf/release"
qemu_timeout="${QEMU_TIMEOUT:-60}"
mkdir -p "$out"

missing=()
for tool in qemu-system-arm arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm cargo timeout; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "run.sh: missing ${missing[*]}" >&2
    echo "  apt-get install -y qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi" >&2
    echo "  rustup target add thumbv7em-none-eabihf" >&2
    exit 2
fi

qemu() { # ELF LOG: boots ELF, tees the console to LOG, returns QEMU's (the firmware's) status
    timeout "$qemu_timeout" qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
        -monitor none -serial none -icount shift=0 \
        -semihosting-config enable=on,target=native -kernel "$1" | tee "$2"
    return "${PIPESTATUS[0]}"
}

firmware() { # NAME BIN [CARGO FEATURES...]: builds the Rust binary BIN, keeps its ELF as NAME.elf
    local name="$1" bin="$2"
    shift 2
    (cd "$here" && cargo build --release --quiet --bin "$bin" "$@")
    cp "$bin_dir/$bin" "$out/$name.elf"
}

bss_of() { arm-none-eabi-size -A "$1" | awk '$1 == ".bss" { print $2 }'; }
sampler_symbol_size() { echo $((16#$(arm-none-eabi-nm -S "$1" | awk '/SAMPLER/ { print $2 }'))); }
workspace_bytes() { sed -n 's/.*(workspace_len: \([0-9]*\) bytes).*/\1/p' "$1"; }

status=0
start=$SECONDS

echo "== Rust firmware, libm maths =="
firmware libm etd-cortex-m4
qemu "$out/libm.elf" "$out/libm.log" || { echo "FAILED: libm firmware" >&2; status=1; }

echo "== Rust firmware, micromath fast maths (--features fast-math) =="
firmware fast-math etd-cortex-m4 --features fast-math
qemu "$out/fast-math.elf" "$out/fast-math.log" || { echo "FAILED: fast-math firmware" >&2; status=1; }

echo "== Stage profile (--features profile) =="
firmware profile etd-cortex-m4 --features profile
qemu "$out/profile.elf" "$out/profile.log" >/dev/null || { echo "FAILED: profile firmware" >&2; status=1; }
sed -n '/stage profile/,/update/p' "$out/profile.log"

echo "== Second shape for the RAM formula (--features shape-b: N = 16, M = 8, d = 3) =="
firmware shape-b etd-cortex-m4 --features shape-b
qemu "$out/shape-b.elf" "$out/shape-b.log" >/dev/null || { echo "FAILED: shape-b firmware" >&2; status=1; }
a_sym=$(sampler_symbol_size "$out/libm.elf")
b_sym=$(sampler_symbol_size "$out/shape-b.elf")
a_len=$(workspace_bytes "$out/libm.log")
b_len=$(workspace_bytes "$out/shape-b.log")
a_bss=$(bss_of "$out/libm.elf")
b_bss=$(bss_of "$out/shape-b.elf")
echo "sampler static: N=32 M=4 d=2: $a_sym bytes (workspace_len $a_len); N=16 M=8 d=3: $b_sym bytes (workspace_len $b_len)"
# The particles (4 N d bytes) are the only other static that depends on the shape.
echo ".bss: $a_bss vs $b_bss bytes; delta $((a_bss - b_bss)), predicted $((a_len - b_len + 4 * 32 * 2 - 4 * 16 * 3))"
if [[ -z "$a_len" || "$a_sym" != "$a_len" || "$b_sym" != "$b_len" ||
    $((a_bss - b_bss)) != $((a_len - b_len + 4 * 32 * 2 - 4 * 16 * 3)) ]]; then
    echo "FAILED: RAM formula" >&2
    status=1
fi

echo "== Particle filter (etd-filter: N = 32, M = 1, d = 3, Etd::transport with Config::filter()) =="
firmware filter etd-filter
qemu "$out/filter.elf" "$out/filter.log" >/dev/null || { echo "FAILED: filter firmware" >&2; status=1; }
sed -n '/^config:/p; /^instructions per update/,$p' "$out/filter.log"
f_sym=$(sampler_symbol_size "$out/filter.elf")
f_len=$(workspace_bytes "$out/filter.log")
echo "sampler static: N=32 M=1 d=3: $f_sym bytes (workspace_len $f_len)"
[[ -n "$f_len" && "$f_sym" == "$f_len" ]] || { echo "FAILED: filter sampler size" >&2; status=1; }

echo "== Particle filter with Update::Rounded (etd-filter --features rounded) =="
firmware rounded etd-filter --features rounded
qemu "$out/rounded.elf" "$out/rounded.log" >/dev/null || { echo "FAILED: rounded filter firmware" >&2; status=1; }
sed -n '/^config:/p; /^instructions per update/,$p' "$out/rounded.log"

echo "== defmt feature builds for thumbv7em-none-eabihf =="
(cd "$root" && cargo build --release --quiet -p entropic-transport --features defmt \
    --target thumbv7em-none-eabihf) && echo "ok" || { echo "FAILED: defmt build" >&2; status=1; }

echo "== C firmware through etd.h and libetd.a =="
(cd "$root" && cargo build --release --quiet -p etd-ffi --no-default-features \
    --target thumbv7em-none-eabihf)
arm-none-eabi-gcc -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Werror \
    -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
    -ffunction-sections -fdata-sections -I"$root/include" \
    --specs=rdimon.specs -nostartfiles -T "$here/c/mps2-an386.ld" \
    -Wl,--gc-sections,--no-warn-execstack \
    "$here/c/startup.c" "$here/c/main.c" \
    "$target_dir/thumbv7em-none-eabihf/release/libetd.a" -lm -o "$out/c.elf"
qemu "$out/c.elf" "$out/c.log" || { echo "FAILED: C firmware" >&2; status=1; }

echo "== Summary =="
printf '%-10s %8s %6s %7s %14s %7s  %s\n' firmware text data bss "instr/step" stack result
for name in libm fast-math filter rounded c; do
    read -r text data bss _ < <(arm-none-eabi-size "$out/$name.elf" | tail -1)
    # instructions and stack per sampler step, or per filter update
    instr=$(sed -n 's/^instructions per \(step\|update\): mean \([0-9]*\).*/\2/p' "$out/$name.log")
    stack=$(sed -n 's/^peak stack of one \(step\|update\): \([0-9]*\).*/\2/p' "$out/$name.log")
    result=$(grep -E '^(PASS|FAIL)' "$out/$name.log" || echo "no verdict")
    printf '%-10s %8s %6s %7s %14s %7s  %s\n' "$name" "$text" "$data" "$bss" "$instr" "${stack:--}" "$result"
done
echo "total $((SECONDS - start)) s"
exit "$status"
