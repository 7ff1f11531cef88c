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
# Leptos erases the console's view types, which halves the browser build's code:
# its views otherwise monomorphise into megabytes of WASM. Server and browser
# must agree on it, or hydration finds other markers than the server rendered,
# so it is set for every build these scripts run.
export RUSTFLAGS="${RUSTFLAGS:-} --cfg erase_components"
BINARYEN_VERSION=132.0.0
# Splits the console's WASM at its lazily loaded pages (the same splitter
# cargo-leptos uses for `--split`); must understand wasm_split_helpers' format.
WASM_SPLIT_VERSION=0.2.3

CARGO_HOME_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"

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
  if ! command -v wasm-split-cli >/dev/null 2>&1 \
     || [[ "$(cat "$CARGO_HOME_BIN/.wasm-split-version" 2>/dev/null)" != "$WASM_SPLIT_VERSION" ]]; then
    say "installing wasm-split $WASM_SPLIT_VERSION (first run only, a minute)"
    cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --locked --features build-binary
    echo "$WASM_SPLIT_VERSION" > "$CARGO_HOME_BIN/.wasm-split-version"
  fi
}

# wasm-opt from binaryen's npm package, into the target dir (first run only).
ensure_wasm_opt() {
  WASM_OPT="$CARGO_TARGET_DIR/tools/node_modules/.bin/wasm-opt"
  if ! [[ -x "$WASM_OPT" ]]; then
    say "installing binaryen's wasm-opt from npm (first run only)"
    mkdir -p "$CARGO_TARGET_DIR/tools"
    (cd "$CARGO_TARGET_DIR/tools" && npm install --silent --no-audit --no-fund --loglevel=error binaryen@"$BINARYEN_VERSION" >/dev/null)
  fi
}

# Builds the steward binary and the hydrating console in $LEPTOS_SITE_ROOT/pkg.
# The console is always built optimised, the demo's included: a debug build's
# WASM is about 28 MB, which on a shop's 10 Mbit/s link means half a minute
# before the first click works. It is split into a shell and page groups
# loaded on first visit, published in a folder named by a hash of its files,
# with brotli and gzip copies (.ci/assets.mjs), so the server can let browsers
# cache them forever and send them compressed.
build_all() {
  ensure_rust_tools
  ensure_wasm_opt
  # STEWARD_CONSOLE_BUILD=debug trades the optimised console for a rebuild in
  # seconds rather than two minutes, while working on console pages.
  local profile=wasm-release
  if [[ "${STEWARD_CONSOLE_BUILD:-}" == debug ]]; then profile=dev; fi
  say "building the console (wasm, $profile)"
  cargo build -p steward-console --lib --target wasm32-unknown-unknown --features hydrate --profile "$profile"
  # wasm-opt runs on one core for over a minute: it works beside the server's
  # build instead of after it.
  publish_console "$profile" > "$CARGO_TARGET_DIR/console-publish.log" 2>&1 &
  local publishing=$!
  say "building the server"
  cargo build --bin steward
  if ! wait "$publishing"; then
    cat "$CARGO_TARGET_DIR/console-publish.log" >&2
    say "publishing the console's assets failed"
    return 1
  fi
  cat "$CARGO_TARGET_DIR/console-publish.log"
}

# Turns the console's WASM into the files the server serves (see build_all).
publish_console() {
  local profile=$1 out=$1
  if [[ "$profile" == dev ]]; then out=debug; fi
  local wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$out/steward_console.wasm"
  local staging="$CARGO_TARGET_DIR/console-staging-$profile"
  # Nothing to do when nothing it would read changed and its build is the one
  # published (not the other profile's).
  local source_id
  source_id="$(cat "$wasm" style/*.css .ci/assets.mjs | sha256sum | cut -c1-32)"
  if [[ -f "$staging/.source" && "$(cat "$staging/.source")" == "$source_id" \
        && -f "$LEPTOS_SITE_ROOT/build-id" \
        && "$(cat "$staging/.published" 2>/dev/null)" == "$(cat "$LEPTOS_SITE_ROOT/build-id")" ]]; then
    say "console assets are current (pkg/$(cat "$LEPTOS_SITE_ROOT/build-id"))"
    return
  fi
  rm -rf "$staging" && mkdir -p "$staging"
  # Each page is a split point (frontend/src/pages/mod.rs): the shell keeps
  # the router and what several pages share, and every page's own code goes
  # to a module the shell fetches when the page is first shown.
  wasm-split-cli "$wasm" "$staging" --target web --out-name steward
  wasm-bindgen --target web --no-typescript --keep-lld-exports \
    --out-dir "$staging" --out-name steward "$staging/steward.wasm"
  rm "$staging/steward.wasm"
  if [[ "$profile" != dev ]]; then
    say "optimising the console's wasm modules with wasm-opt -Oz"
    local module
    for module in "$staging"/*.wasm; do
      # Its only warnings are about a names subsection that wasm-split writes
      # and binaryen does not know (and drops): shown only if it fails.
      "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$module" -o "$module" 2> "$staging/wasm-opt.log" \
        || { cat "$staging/wasm-opt.log" >&2; return 1; }
    done
    rm "$staging/wasm-opt.log"
  fi
  cat style/*.css > "$staging/steward.css"
  node .ci/assets.mjs "$staging" "$LEPTOS_SITE_ROOT"
  echo "$source_id" > "$staging/.source"
  cp "$LEPTOS_SITE_ROOT/build-id" "$staging/.published"
}

# Chromium, playwright-core and axe-core for the browser tests, and nginx.
ensure_test_tools() {
  if ! [[ -x /usr/bin/chromium ]]; then
    say "installing Debian's chromium"
    if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  # nginx: a real normalising upstream for the gateway's path tests.
  if ! command -v nginx >/dev/null 2>&1 && ! [[ -x /usr/sbin/nginx ]]; then
    say "installing Debian's nginx-light"
    if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >/dev/null
  fi
  if ! [[ -d tests/e2e/node_modules/playwright-core && -d tests/e2e/node_modules/axe-core ]]; then
    say "installing playwright-core and axe-core"
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
