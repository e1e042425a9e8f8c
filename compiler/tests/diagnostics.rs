//! A corpus of broken schemas, one mistake each (and one with several): every
//! file names the error code it must produce on its first line, and the rendered
//! diagnostics are snapshots a reviewer reads.

use std::path::{Path, PathBuf};

use mproto_compiler::{SourceMap, compile_str, diag};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/diagnostics exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mproto"))
        .collect();
    files.sort();
    files
}

/// The code a corpus file expects, from `// expect: E0xxx` on its first line.
fn expected_code(text: &str) -> &str {
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("// expect: "))
        .map(str::trim)
        .expect("first line is `// expect: E0xxx`")
}

#[test]
fn every_broken_schema_is_reported_with_its_code() {
    let files = corpus();
    assert!(files.len() >= 25, "the corpus has {} files", files.len());
    let mut codes = std::collections::BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap()
            .to_string();
        let name = format!("tests/diagnostics/{stem}.mproto");
        let mut sources = SourceMap::new();
        let diagnostics = match compile_str(&name, &text, &mut sources) {
            Ok(_) => panic!("{name} compiled, but it is broken"),
            Err(d) => d.into_sorted(),
        };
        let expected = expected_code(&text);
        assert!(
            diagnostics.iter().any(|d| d.code == expected),
            "{name}: expected {expected}, got {:?}",
            diagnostics.iter().map(|d| d.code).collect::<Vec<_>>()
        );
        codes.insert(expected.to_string());
        let rendered = diag::render_plain(&sources, &diagnostics);
        insta::with_settings!({ snapshot_path => "snapshots/diagnostics", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(stem, rendered);
        });
    }
    assert!(codes.len() >= 20, "the corpus covers only {codes:?}");
}

#[test]
fn one_run_reports_every_mistake() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics/several_mistakes.mproto");
    let text = std::fs::read_to_string(path).unwrap();
    let mut sources = SourceMap::new();
    let d = compile_str("several_mistakes.mproto", &text, &mut sources).unwrap_err();
    let codes: Vec<&str> = d.iter().map(|d| d.code).collect();
    for code in ["E0201", "E0301", "E0303", "E0202"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
}

#[test]
fn truncated_schemas_never_panic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/awesomerpc.mproto");
    let text = std::fs::read_to_string(path).unwrap();
    for cut in (0..text.len())
        .filter(|&i| text.is_char_boundary(i))
        .step_by(7)
    {
        let mut sources = SourceMap::new();
        let _ = compile_str("cut.mproto", &text[..cut], &mut sources);
    }
}
