#!/usr/bin/env bash
# Builds the worst-case firmware and runs it under QEMU (mps2-an386); exits non-zero if a check
# fails. Needs the thumbv7em-none-eabihf target and qemu-system-arm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
cargo run --release --quiet
