//! The Python package's pytest suite (crates/hitcast-py/tests, Spark included), run against this
//! build's `hitcast` binary, so `cargo test --workspace` is the whole suite. It needs the wheel
//! installed (`pip install ./crates/hitcast-py`) with pytest, pandas, polars, pyarrow and pyspark;
//! without them it says so and passes, except under `HITCAST_REQUIRE_PYTHON` (CI), where it
//! fails.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_python_package_tests_pass() {
    if !super::python_has(
        "hitcast, pytest, pandas, polars, pyarrow, pyspark",
        "pip install ./crates/hitcast-py pytest pandas polars pyarrow pyspark",
    ) {
        return;
    }
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hitcast-py/tests");
    let out = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(&tests)
        .env("HITCAST_BIN", env!("CARGO_BIN_EXE_hitcast"))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains(" passed"), "{said}");
    assert!(!said.contains("skipped"), "a Python test skipped: {said}");
}

/// The package's documentation names every declared answer column (`ANSWERS`): its own
/// `predict` docstring and its `ANSWER_COLUMNS` come from the same list as the tables' columns.
#[test]
fn the_python_docs_name_every_answer_column() {
    let package = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hitcast-py/python/hitcast");
    let init = std::fs::read_to_string(package.join("__init__.py")).unwrap();
    let missing: Vec<&str> = hitcast::predictor::ANSWERS
        .iter()
        .map(|c| c.name)
        .filter(|name| !init.contains(&format!("``{name}``")))
        .collect();
    assert!(
        missing.is_empty(),
        "__init__.py does not document {missing:?}"
    );
}
