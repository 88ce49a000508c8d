//! `cargo xtask scim-server`: scimap's update plans proven against scim2-server, a SCIM
//! server nobody here wrote (tests/scim_server/README.md). Installs the pinned Python packages
//! into a virtual environment under target/ (kept between runs), builds `scimap`, and runs the
//! driver, which starts the server on 127.0.0.1 and stops it at the end.

use crate::run;
use crate::wasm::{path_str, target_dir};

/// The pinned packages (tests/scim_server/requirements.txt): scim2-server, scim2-models and
/// their dependencies, each at an exact version.
const REQUIREMENTS: &str = "tests/scim_server/requirements.txt";

pub fn run_step() -> Result<(), String> {
    let venv = target_dir().join("scim-venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        run("python3", &["-m", "venv", &path_str(&venv)?])?;
    }
    let python = path_str(&python)?;
    // `--no-deps`: the file pins the whole set, so pip resolves nothing on its own.
    run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--requirement",
            REQUIREMENTS,
        ],
    )?;
    run("cargo", &["build", "--bin", "scimap"])?;
    let out = target_dir().join("scim-server");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    run(
        &python,
        &[
            "tests/scim_server/converge.py",
            "--scimap",
            &path_str(&target_dir().join("debug/scimap"))?,
            "--server",
            &path_str(&venv.join("bin/scim2-server"))?,
            "--figures",
            &path_str(&out.join("figures.json"))?,
        ],
    )
}
