//! Snapshots of the Rust code generated for every schema in `schemas/`, plus
//! checks a reviewer would otherwise do by eye.

use std::path::{Path, PathBuf};

use mproto_compiler::{SourceMap, diag, generate_file};

fn schemas() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("schemas/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mproto"))
        .collect();
    files.sort();
    files
}

fn generate(path: &Path) -> String {
    let mut sources = SourceMap::new();
    match generate_file(path, "::mproto_runtime", &mut sources) {
        Ok(code) => code,
        Err(d) => panic!("{}", diag::render_plain(&sources, &d.into_sorted())),
    }
}

#[test]
fn generated_code_snapshots() {
    let files = schemas();
    assert!(
        files.len() >= 3,
        "expected the shipped schemas, found {files:?}"
    );
    for path in files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        insta::assert_snapshot!(name, generate(&path));
    }
}

#[test]
fn generated_code_is_safe_parsable_and_documented() {
    for path in schemas() {
        let code = generate(&path);
        assert!(
            !code.contains("unsafe"),
            "{}: generated code uses unsafe",
            path.display()
        );
        assert!(
            !code.contains(".unwrap()") && !code.contains(".expect("),
            "{}: generated code may panic",
            path.display()
        );
        assert!(
            !code.contains("panic!") && !code.contains("unreachable!"),
            "{}",
            path.display()
        );
        let file = syn::parse_file(&code).expect("generated code parses");
        for item in &file.items {
            let (attrs, public) = match item {
                syn::Item::Struct(s) => (&s.attrs, matches!(s.vis, syn::Visibility::Public(_))),
                syn::Item::Enum(e) => (&e.attrs, matches!(e.vis, syn::Visibility::Public(_))),
                syn::Item::Fn(f) => (&f.attrs, matches!(f.vis, syn::Visibility::Public(_))),
                syn::Item::Const(c) => (&c.attrs, matches!(c.vis, syn::Visibility::Public(_))),
                _ => continue,
            };
            if public {
                assert!(
                    attrs.iter().any(|a| a.path().is_ident("doc")),
                    "{}: undocumented public item {}",
                    path.display(),
                    quote::ToTokens::to_token_stream(item)
                        .to_string()
                        .chars()
                        .take(80)
                        .collect::<String>()
                );
            }
        }
    }
}

#[test]
fn generation_is_deterministic() {
    for path in schemas() {
        assert_eq!(generate(&path), generate(&path));
    }
}
