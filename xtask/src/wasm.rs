//! WASM build and browser tests (issue 6).

pub fn build(_release: bool) -> Result<(), String> {
    Err("not built yet".into())
}

pub fn web_test() -> Result<(), String> {
    Err("not built yet".into())
}
