//! The editors' side of `scimap lsp` (reference §editors):
//!
//! * `cargo xtask nvim` — a real editor as the client. Debian's Neovim (0.7.2 in bookworm,
//!   installed with apt-get when missing) runs headless with its built-in LSP client;
//!   `tests/nvim/lsp.lua` opens a broken mapping (a copy of `tests/nvim/broken.scimap`) and
//!   writes the diagnostics, a completion list and the buffer after formatting as JSON, which
//!   this checks.
//! * `cargo xtask vscode` — the VS Code extension of `editors/vscode` packaged (`npm ci` of its
//!   pinned lockfile, then `vsce package`) into `editors/vscode/scimap.vsix`.

use crate::{root, run, wasm};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const NVIM: &str = "/usr/bin/nvim";

pub fn nvim() -> Result<(), String> {
    install()?;
    run("cargo", &["build", "--bin", "scimap"])?;
    let bin = wasm::target_dir().join("debug/scimap");
    let work = wasm::target_dir().join("nvim-test");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let mapping = work.join("broken.scimap");
    std::fs::copy(root().join("tests/nvim/broken.scimap"), &mapping)
        .map_err(|e| format!("cannot copy the mapping: {e}"))?;
    let out = work.join("out.json");
    let _ = std::fs::remove_file(&out);
    let script = root().join("tests/nvim/lsp.lua");
    eprintln!(
        "$ nvim --headless --clean -c 'luafile {}'",
        script.display()
    );
    let status = Command::new(NVIM)
        .args(["--headless", "--clean", "-c"])
        .arg(format!("luafile {}", wasm::path_str(&script)?))
        .env("SCIMAP_BIN", &bin)
        .env("SCIMAP_MAPPING", &mapping)
        .env("SCIMAP_OUT", &out)
        .current_dir(&work)
        .status()
        .map_err(|e| format!("cannot run nvim: {e}"))?;
    let text = std::fs::read_to_string(&out)
        .map_err(|e| format!("nvim wrote no result ({status}): {e}"))?;
    let result: Value =
        serde_json::from_str(&text).map_err(|e| format!("nvim's result is not JSON: {e}"))?;
    check(&result)?;
    if !status.success() {
        return Err(format!("nvim failed: {status}"));
    }
    eprintln!("nvim: diagnostics, completion and formatting as expected");
    Ok(())
}

/// What Neovim must have received.
fn check(result: &Value) -> Result<(), String> {
    if let Some(error) = result.get("error") {
        return Err(format!("the Neovim script failed: {error}"));
    }
    let diagnostics = result["diagnostics"].as_array().ok_or("no diagnostics")?;
    let unknown = diagnostics
        .iter()
        .find(|d| d["code"] == "scimap::unknown-target");
    match unknown {
        Some(d) if d["line"] == 1 && d["col"] == 2 && d["severity"] == 1 => {}
        _ => {
            return Err(format!(
                "expected the error scimap::unknown-target at line 2, column 3: {diagnostics:?}"
            ))
        }
    }
    let message = unknown.and_then(|d| d["message"].as_str()).unwrap_or("");
    if !message.contains("did you mean `userName`?") {
        return Err(format!("the diagnostic lacks its help: {message:?}"));
    }
    let labels: Vec<&str> = result["completion"]
        .as_array()
        .ok_or("no completion list")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in ["displayname", "lower", "firstname"] {
        if !labels.contains(&expected) {
            return Err(format!("completion lacks {expected:?}: {labels:?}"));
        }
    }
    let formatted: Vec<&str> = result["formatted"]
        .as_array()
        .ok_or("no formatted buffer")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let expected = [
        "user {",
        "  usrName     = $.username",
        "  displayName = lower(displayname ?? \"\")",
        "}",
    ];
    if formatted != expected {
        return Err(format!("formatting gave {formatted:#?}, not {expected:#?}"));
    }
    Ok(())
}

/// Debian's neovim, unless an `nvim` is already there.
fn install() -> Result<(), String> {
    if Path::new(NVIM).exists() {
        return Ok(());
    }
    run("apt-get", &["update"])?;
    run("apt-get", &["install", "-y", "neovim"])
}

/// The extension, packaged: what `code --install-extension` takes.
pub fn vscode() -> Result<(), String> {
    wasm::npm_ci("editors/vscode")?;
    let dir = root().join("editors/vscode");
    let dir = wasm::path_str(&dir)?;
    run("node", &["--check", &format!("{dir}/extension.js")])?;
    run("npm", &["run", "--prefix", &dir, "package"])?;
    let vsix = root().join("editors/vscode/scimap.vsix");
    match std::fs::metadata(&vsix) {
        Ok(m) if m.len() > 0 => Ok(()),
        _ => Err(format!("vsce wrote no {}", vsix.display())),
    }
}
