//! Where a large diff's memory goes: resident and peak memory after each phase
//! of `steward diff` (load base, load revision, compare), read from
//! `/proc/self/status` on Linux, with the system allocator. The documents load
//! one after the other, or with `--parallel` at once as the CLI loads them. Usage: `cargo run --release -p
//! steward-contracts --example diff_memory -- BASE REVISION`.

use std::time::Instant;

/// (resident, peak resident) in MiB, and the peak reset for the next phase.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    let figures = (field("VmRSS:"), field("VmHWM:"));
    // "5" resets the peak to the current figure (proc(5), clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    figures
}

fn phase(label: &str, started: Instant) {
    let (resident, peak) = memory();
    println!(
        "{label:<18} {resident:>7.1} MiB resident  {peak:>7.1} MiB peak  {:>6.3} s",
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [base, revision] = paths.as_slice() else {
        eprintln!("usage: diff_memory BASE REVISION");
        std::process::exit(2);
    };
    let started = Instant::now();
    let load = |path: &str| {
        let text = std::fs::read_to_string(path).expect("readable");
        steward_contracts::loader::load_for_diff(text).expect("loads")
    };
    phase("start", started);
    // `--parallel`: both at once, on two threads, as `steward diff` loads them.
    let (base, revision) = if std::env::args().any(|a| a == "--parallel") {
        std::thread::scope(|scope| {
            let other = scope.spawn(|| load(base));
            let revision = load(revision);
            (other.join().expect("loads"), revision)
        })
    } else {
        let base = load(base);
        phase("base loaded", started);
        (base, load(revision))
    };
    phase("revision loaded", started);
    let changes = steward_contracts::diff::diff(&base.doc, &revision.doc, &Default::default());
    phase("compared", started);
    println!("{} changes", changes.len());
}
