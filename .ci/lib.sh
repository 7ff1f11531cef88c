# Shared by .ci/run, .ci/demo, .ci/build and the benchmarks in tests/bench: install what
# Steward needs, idempotently, and build the server and the console assets. Sourced, not
# executed; it cds to the repository root, so paths in its callers are repository-relative.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$CARGO_TARGET_DIR/site}"
# Must equal the wasm-bindgen version pinned in Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

ensure_rust_tools() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! command -v wasm-bindgen >/dev/null 2>&1 \
     || [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (first run only, a few minutes)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

# Builds the steward binary and the hydrating console (WASM + JS + CSS) in $LEPTOS_SITE_ROOT/pkg.
build_all() {
  ensure_rust_tools
  say "building the server"
  cargo build --bin steward
  say "building the console (wasm)"
  cargo build -p steward-console --lib --target wasm32-unknown-unknown --features hydrate
  mkdir -p "$LEPTOS_SITE_ROOT/pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$LEPTOS_SITE_ROOT/pkg" --out-name steward \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/steward_console.wasm"
  cat style/*.css > "$LEPTOS_SITE_ROOT/pkg/steward.css"
}

ensure_browser_tools() {
  if ! [[ -x /usr/bin/chromium ]]; then
    say "installing Debian's chromium"
    if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  if ! [[ -d tests/e2e/node_modules/playwright-core ]]; then
    say "installing playwright-core"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
