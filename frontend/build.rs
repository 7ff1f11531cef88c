//! The browser build keeps its relocations, which the build's `wasm-split`
//! step needs to move each lazily loaded page out of the shell
//! (`.ci/lib.sh`). Set here rather than in RUSTFLAGS, which would rebuild
//! every dependency for a flag only the final link reads.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo::rustc-link-arg-cdylib=--emit-relocs");
    }
}
