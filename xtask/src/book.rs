//! `cargo xtask book`: the language reference (`docs/book`) built with mdBook into
//! `target/book`, installing mdBook at its pinned version when it is missing.
//!
//! mdBook logs what goes wrong (an `{{#include}}` it cannot read, a bad `book.toml` key) as
//! `WARN`/`ERROR` lines and still succeeds, so any such line fails the task. mdBook does not
//! check links; `cargo test --test book` checks them, with every example of the book.

use crate::{root, wasm::target_dir};
use std::process::Command;

/// mdBook is installed with `search` only: the book needs no `serve`/`watch` (a server and a
/// file watcher, most of mdBook's build time).
const MDBOOK_VERSION: &str = "0.5.4";

pub fn build() -> Result<(), String> {
    install()?;
    let dest = target_dir().join("book");
    eprintln!("$ mdbook build docs/book --dest-dir {}", dest.display());
    let out = Command::new("mdbook")
        .arg("build")
        .arg(root().join("docs/book"))
        .arg("--dest-dir")
        .arg(&dest)
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run mdbook: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    eprint!("{log}");
    if !out.status.success() {
        return Err(format!("mdbook build failed ({})", out.status));
    }
    let problems = log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .count();
    if problems > 0 {
        return Err(format!("mdbook reported {problems} problem line(s) above"));
    }
    eprintln!("the book is in {}", dest.join("index.html").display());
    Ok(())
}

fn install() -> Result<(), String> {
    let installed = Command::new("mdbook")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if installed.as_deref() == Some(format!("mdbook v{MDBOOK_VERSION}").as_str()) {
        return Ok(());
    }
    crate::cargo_install(
        "mdbook",
        MDBOOK_VERSION,
        &["--locked", "--no-default-features", "--features", "search"],
    )
}
