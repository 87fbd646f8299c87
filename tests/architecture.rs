//! The twin table of ARCHITECTURE.md stays true: every shader is in it, every kernel family
//! it names is in the registry, and every CPU twin and parity test it names exists.

use std::fs;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The rows of the twin table: kernel, WGSL file, CPU twin, parity test.
fn twin_rows() -> Vec<[String; 4]> {
    let text = fs::read_to_string(Path::new(ROOT).join("ARCHITECTURE.md")).unwrap();
    let table = text
        .split("## Twin table")
        .nth(1)
        .expect("ARCHITECTURE.md has a twin table");
    let rows: Vec<[String; 4]> = table
        .lines()
        .skip_while(|l| !l.starts_with("| kernel"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<String> = l
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            cells
                .try_into()
                .unwrap_or_else(|c| panic!("a row of four cells: {c:?}"))
        })
        .collect();
    assert!(rows.len() >= 10, "the twin table has {} rows", rows.len());
    rows
}

/// The backticked items of a cell.
fn quoted(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// Checks that `path::item` names a file that defines `fn item` or `struct item`.
fn assert_defined(reference: &str) {
    let (path, item) = reference
        .rsplit_once("::")
        .unwrap_or_else(|| panic!("{reference}: expected path::item"));
    let source = fs::read_to_string(Path::new(ROOT).join(path))
        .unwrap_or_else(|e| panic!("{reference}: {path}: {e}"));
    let defined = [
        format!("fn {item}("),
        format!("fn {item}<"),
        format!("struct {item}"),
    ]
    .iter()
    .any(|d| source.contains(d.as_str()));
    assert!(
        defined,
        "{reference}: {path} defines no fn or struct {item}"
    );
}

#[test]
fn every_shader_is_in_the_twin_table() {
    let rows = twin_rows();
    let listed: Vec<&str> = rows.iter().flat_map(|r| quoted(&r[1])).collect();
    for entry in fs::read_dir(Path::new(ROOT).join("shaders")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".wgsl") {
            assert!(
                listed.contains(&name.as_str()),
                "shaders/{name} is not in the twin table"
            );
        }
    }
    for file in listed {
        assert!(
            Path::new(ROOT).join("shaders").join(file).is_file(),
            "the twin table lists shaders/{file}, which does not exist"
        );
    }
}

#[test]
fn every_twin_and_parity_test_in_the_table_exists() {
    for row in twin_rows() {
        let twins = quoted(&row[2]);
        let tests = quoted(&row[3]);
        assert!(
            !twins.is_empty() && !tests.is_empty(),
            "{row:?} names no twin or no test"
        );
        for reference in twins.into_iter().chain(tests) {
            assert_defined(reference);
        }
    }
}

#[test]
fn every_kernel_family_in_the_table_is_registered() {
    let registry = fs::read_to_string(Path::new(ROOT).join("src/backend/gpu/kernels.rs")).unwrap();
    let mut named = 0;
    for row in twin_rows() {
        for word in row[0].split([',', ' ']) {
            let family = word.trim_end_matches('*').trim_end_matches('_');
            if family.len() > 2 && family.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                named += 1;
                assert!(
                    registry.contains(&format!("    {family}")),
                    "{family} is in the twin table but not in the registry"
                );
            }
        }
    }
    assert!(named >= 10);
}
