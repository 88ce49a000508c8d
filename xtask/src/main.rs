//! Developer tasks beyond `cargo build` / `cargo test`: `cargo xtask <task>`.
//!
//! * `ci` — everything CI checks: formatting, clippy, the test suite, the real-server test, a
//!   short fuzz run (what `.ci/run` runs).
//! * `wasm [--release]`, `web-test` — the WASM package and preview page, and their tests; clippy of the WASM-only code (wasm.rs).
//! * `bench-compare [N] [--million]` — scimap vs Expr 1.8.9 and json-baseline (see bench.rs).
//! * `bench-plan [N]` — `plan --input` beside `bulk`, one thread (see bench_plan.rs).
//! * `book` — the language reference (docs/book) with mdBook, into target/book (book.rs).
//! * `man` — the man pages of `scimap`, from its clap definitions, into target/man (man.rs).
//! * `hostile-compile [--size B] [--bin P] [--only S]` — `check` CPU per MiB of hostile
//!   mappings (see hostile.rs).
//! * `hostile-bulk [--bin P] [--only NAME]` — `bulk` peak RSS and CPU per record on the hostile
//!   records, at the default limits (see hostile.rs).
//! * `fuzz [SECONDS] [--keep-going] [TARGET…]` — every fuzz target with resource oracles (see
//!   fuzz.rs).
//! * `scim-server` — update plans applied to a real SCIM server, scim2-server (scim_server.rs).
//! * `nvim` — `scimap lsp` driven by Neovim's built-in LSP client, headless (editors.rs).
//! * `vscode` — the VS Code extension of editors/vscode, packaged (editors.rs).

mod bench;
mod bench_plan;
mod book;
mod editors;
mod fuzz;
mod hostile;
mod man;
mod scim_server;
mod wasm;

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench-compare") => bench::compare(&args[1..]),
        Some("bench-plan") => bench_plan::run_bench(&args[1..]),
        Some("hostile-compile") => hostile::compile(&args[1..]),
        Some("hostile-bulk") => hostile::bulk(&args[1..]),
        Some("wasm") => wasm::build(args.iter().any(|a| a == "--release")),
        Some("web-test") => wasm::web_test(args.iter().any(|a| a == "--release")),
        Some("book") => book::build(),
        Some("man") => man::build(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("scim-server") => scim_server::run_step(),
        Some("nvim") => editors::nvim(),
        Some("vscode") => editors::vscode(),
        _ => {
            eprintln!("usage: cargo xtask <task>\n\ntasks:\n  ci        formatting, clippy and every test (what CI runs)\n  wasm      build the WASM package and the preview page (--release: optimised, within its size budget)\n  web-test  WASM tests under node and the preview page in headless Chromium (--release: on the optimised module)\n  book      the language reference (docs/book) built with mdBook into target/book\n  man       the man pages of scimap (clap_mangen) into target/man\n  bench-compare [N] [--million]  scimap vs the peers on N generated users (default 100000); --million adds the 1M-record memory check\n  bench-plan [N]  plan --input beside bulk on N generated users (default 100000), one thread\n  hostile-compile [--size B] [--bin P] [--only S]  CPU of `scimap check` per MiB of each hostile mapping shape\n  hostile-bulk [--bin P] [--only NAME]  peak RSS and CPU per record of `bulk` on the hostile records\n  fuzz [SECONDS] [--keep-going] [TARGET...]  each fuzz target for SECONDS (default 60) with resource oracles\n  scim-server  update plans of every example mapping applied to scim2-server (pinned, in target/scim-venv)\n  nvim      scimap lsp driven by Neovim's built-in LSP client, headless (Debian's neovim)\n  vscode    the VS Code extension (editors/vscode) packaged into scimap.vsix");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command from the workspace root, failing on a non-zero exit.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// `cargo install CRATE --version VERSION EXTRA…` of a tool the tasks need, as a debug build
/// into one shared target directory: the tools run briefly, and an optimised build of the
/// three (mdBook, cargo-fuzz, wasm-bindgen) took 9 of CI's minutes on a fresh machine.
pub fn cargo_install(krate: &str, version: &str, extra: &[&str]) -> Result<(), String> {
    let tools = wasm::target_dir().join("tools");
    let tools = tools.to_str().ok_or("the target directory is not UTF-8")?;
    let mut args = vec!["install", krate, "--version", version, "--debug"];
    args.extend(["--target-dir", tools]);
    args.extend(extra);
    run("cargo", &args)
}

pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default()
}

/// Seconds per fuzz target in CI: seven targets, a few minutes in all with the build (the
/// whole of CI must stay under 25 minutes on two cores; SECURITY.md documents longer runs).
const CI_FUZZ_SECONDS: u64 = 10;

fn ci() -> Result<(), String> {
    run("rustup", &["component", "add", "rustfmt", "clippy"])?;
    run("cargo", &["fmt", "--all", "--", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // The WASM exports are compiled for wasm32 only: lint them there too.
    wasm::clippy()?;
    run("cargo", &["test", "--workspace"])?;
    // The seed apps' own tests, through the command as a user runs them (reference §testing),
    // every entry and branch of each mapping covered.
    run(
        "cargo",
        &[
            "run",
            "--quiet",
            "--bin",
            "scimap",
            "--",
            "test",
            "examples",
            "--min-coverage",
            "100",
        ],
    )?;
    scim_server::run_step()?;
    editors::nvim()?;
    editors::vscode()?;
    // The optimised module, within its size budget, is the one the page tests run on.
    wasm::web_test(true)?;
    book::build()?;
    man::build()?;
    // A short run of every fuzz target with its resource oracles (SECURITY.md, "Fuzzing").
    fuzz::run(&[CI_FUZZ_SECONDS.to_string()])?;
    Ok(())
}
