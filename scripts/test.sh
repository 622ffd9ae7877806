#!/usr/bin/env bash
# Runs every check of the project: formatting, lints, all tests and doctests on the mirrored
# backend and on the heap backend, loom models, ThreadSanitizer, Miri, and a type-check of
# the macOS and Windows backends.
# Installs the toolchain parts it needs. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
export RUSTFLAGS="-D warnings"
export RUSTDOCFLAGS="-D warnings"
CROSS_TARGETS=(x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu)

step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }

step "toolchain"
rustup component add rustfmt clippy >/dev/null
rustup target add "${CROSS_TARGETS[@]}" >/dev/null
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
rustup +nightly component add miri rust-src >/dev/null
HOST=$(rustc -vV | sed -n 's/^host: //p')

step "rustfmt"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets
cargo clippy --workspace --all-targets --all-features

step "tests and doctests (mirrored backend)"
cargo test --workspace
cargo test --workspace --benches

step "tests and doctests of the optional features (bytes, tokio, futures-io)"
cargo test --workspace --all-features

step "tests in release mode (optimised code over the mirror)"
cargo test --workspace --release --tests --all-features

step "tests and doctests (heap backend)"
RUSTFLAGS="$RUSTFLAGS --cfg picoring_heap" RUSTDOCFLAGS="$RUSTDOCFLAGS --cfg picoring_heap" \
    CARGO_TARGET_DIR=target/heap cargo test --workspace

step "loom models (heap backend)"
RUSTFLAGS="$RUSTFLAGS --cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom \
    cargo test -p picoring --release --test loom_spsc
# The MPSC models set their own preemption bound (2): three producers explode at 3.
RUSTFLAGS="$RUSTFLAGS --cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test -p picoring --release --test loom_mpsc

step "thread sanitizer (mirrored backend, concurrent structures)"
RUSTFLAGS="$RUSTFLAGS -Zsanitizer=thread" CARGO_TARGET_DIR=target/tsan \
    cargo +nightly test -Zbuild-std --target "$HOST" -p picoring --release \
    --test spsc --test spsc_stress --test mpsc_stress --test pipe

step "miri (heap backend)"
cargo +nightly miri setup >/dev/null
MIRIFLAGS="-Zmiri-strict-provenance" \
    cargo +nightly miri test -p picoring --lib --test ring --test model --test drops \
    --test queue --test stream --test list --test spsc --test pipe --test mpsc

for target in "${CROSS_TARGETS[@]}"; do
    step "clippy --target $target"
    cargo clippy -p picoring --lib --target "$target"
done

step "all checks passed"
