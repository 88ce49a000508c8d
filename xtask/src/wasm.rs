//! WASM build and browser tests (issue 6).
//!
//! * `wasm [--release]` — the engine as a wasm-bindgen package (`web/pkg`) and the preview page
//!   (`web/dist`); `--release` builds with the `wasm-release` profile, runs npm's wasm-opt and
//!   fails when the module is over its size budget (CI runs it).
//! * `web-test [--release]` — the WASM exports' tests under node, then the page end to end in headless
//!   Chromium, checked against the command line.
//!
//! Both install what they need when it is missing: the wasm32 target, wasm-bindgen-cli at the
//! crate's exact version, the page's npm packages and (for `web-test`) Debian's Chromium.

use crate::{root, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Must equal the `wasm-bindgen` pin in Cargo.toml: the CLI refuses other crate versions.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const TARGET: &str = "wasm32-unknown-unknown";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The optimised module's budget in bytes: issue #14's 2.5 MB, read as decimal megabytes
/// (BENCHMARKS.md, WASM, lists what the module is made of).
const MODULE_BUDGET: u64 = 2_500_000;

pub fn build(release: bool) -> Result<(), String> {
    install_toolchain()?;
    npm_ci("web")?;
    let (profile_flag, profile_dir) = if release {
        (vec!["--profile", "wasm-release"], "wasm-release")
    } else {
        (Vec::new(), "debug")
    };
    let mut args = vec![
        "build",
        "--lib",
        "--target",
        TARGET,
        "--no-default-features",
        "--features",
        "wasm",
    ];
    args.extend(profile_flag);
    run("cargo", &args)?;

    let module = target_dir()
        .join(TARGET)
        .join(profile_dir)
        .join("scimap.wasm");
    let pkg = root().join("web").join("pkg");
    run(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--out-dir",
            &path_str(&pkg)?,
            &path_str(&module)?,
        ],
    )?;
    if release {
        // npm's binaryen: Debian's wasm-opt (version 108) produces modules that fail to load.
        let wasm_opt = root().join("web/node_modules/.bin/wasm-opt");
        let bg = path_str(&pkg.join("scimap_bg.wasm"))?;
        run(
            &path_str(&wasm_opt)?,
            &["-Oz", "--strip-debug", "--strip-producers", &bg, "-o", &bg],
        )?;
        let size = std::fs::metadata(&bg)
            .map_err(|e| format!("cannot read {bg}: {e}"))?
            .len();
        eprintln!("{bg}: {size} bytes, budget {MODULE_BUDGET}");
        if size > MODULE_BUDGET {
            return Err(format!(
                "the WASM module is {size} bytes, over its budget of {MODULE_BUDGET}"
            ));
        }
    }
    run("node", &["web/build.mjs"])
}

/// Clippy over the code only the WASM build compiles (`src/wasm/`, `tests/wasm.rs`).
pub fn clippy() -> Result<(), String> {
    run("rustup", &["target", "add", TARGET])?;
    run(
        "cargo",
        &[
            "clippy",
            "--lib",
            "--test",
            "wasm",
            "--target",
            TARGET,
            "--no-default-features",
            "--features",
            "wasm",
            "--",
            "-D",
            "warnings",
        ],
    )
}

/// The exports' tests under node, then the page in Chromium, on the module `build(release)`
/// makes: CI tests the optimised one, the module the page ships.
pub fn web_test(release: bool) -> Result<(), String> {
    build(release)?;
    install_chromium()?;
    // The runner is set in .cargo/config.toml: wasm-bindgen-test-runner, under node.
    run(
        "cargo",
        &[
            "test",
            "--target",
            TARGET,
            "--no-default-features",
            "--features",
            "wasm",
            "--test",
            "wasm",
        ],
    )?;
    // The end-to-end test compares the page with this binary's `eval`.
    run("cargo", &["build", "--bin", "scimap"])?;
    let scimap = target_dir().join("debug").join("scimap");
    eprintln!("$ SCIMAP_BIN={} node --test web/e2e.mjs", scimap.display());
    let status = Command::new("node")
        .args(["--test", "web/e2e.mjs"])
        .env("SCIMAP_BIN", &scimap)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the end-to-end test failed ({status})"))
    }
}

fn install_toolchain() -> Result<(), String> {
    run("rustup", &["target", "add", TARGET])?;
    let installed = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let wanted = format!("wasm-bindgen {WASM_BINDGEN_VERSION}");
    if installed.as_deref() != Some(wanted.as_str()) {
        // Not `--locked`: the CLI's own lockfile pins a crate version the index refuses.
        crate::cargo_install("wasm-bindgen-cli", WASM_BINDGEN_VERSION, &[])?;
    }
    Ok(())
}

/// `npm ci` in a directory of the repository (`web`), unless node_modules was installed from
/// the current lockfile already.
pub fn npm_ci(dir: &str) -> Result<(), String> {
    let web = root().join(dir);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let lock = modified(&web.join("package-lock.json"));
    let installed = modified(&web.join("node_modules/.package-lock.json"));
    if matches!((lock, installed), (Some(lock), Some(installed)) if installed >= lock) {
        return Ok(());
    }
    eprintln!("$ (cd {dir} && npm ci)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&web)
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`npm ci` in {dir}/ failed ({status})"))
    }
}

/// Debian's Chromium (a browser download by a test tool cannot reach its host here).
fn install_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    run("apt-get", &["update"])?;
    run("apt-get", &["install", "-y", "chromium", "chromium-driver"])
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root().join(p) })
        .unwrap_or_else(|| root().join("target"))
}

pub fn path_str(p: &Path) -> Result<String, String> {
    p.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} is not valid UTF-8", p.display()))
}
