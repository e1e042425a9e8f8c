//! Reading schema files and their imports, then parsing and lowering them.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics, FileId, SourceMap, Span};
use crate::ir::Schema;
use crate::lower::{ParsedFile, inner, lower_files};
use crate::syntax::{Rule, parse_file, span_of};

/// Loads a schema file and the files it imports, and lowers them to the IR.
pub fn load_schema(path: &Path, sources: &mut SourceMap) -> Result<Schema, Diagnostics> {
    match std::fs::read_to_string(path) {
        Ok(text) => load_schema_str(&path.display().to_string(), &text, sources),
        Err(e) => {
            let mut d = Diagnostics::new();
            let f = sources.add(path.display().to_string(), String::new());
            d.push(
                Diagnostic::error("E0204", format!("cannot read `{}`: {e}", path.display()))
                    .primary(Span::new(f, 0, 0), "this file"),
            );
            Err(d)
        }
    }
}

/// Lowers schema text named `name`; imports resolve relative to `name`'s directory.
pub fn load_schema_str(
    name: &str,
    text: &str,
    sources: &mut SourceMap,
) -> Result<Schema, Diagnostics> {
    let mut diags = Diagnostics::new();
    let root = sources.add(name, text);
    let mut order = Vec::new();
    collect(sources, root, &mut vec![], &mut order, &mut diags);
    let mut parsed = Vec::new();
    for &id in &order {
        let text = sources.text(id);
        match parse_file(text, id) {
            Ok(mut pairs) => {
                let items = pairs
                    .next()
                    .map(|f| {
                        inner(&f)
                            .into_iter()
                            .filter(|p| p.as_rule() == Rule::item)
                            .collect()
                    })
                    .unwrap_or_default();
                parsed.push(ParsedFile {
                    file: id,
                    text,
                    items,
                    root: id == root,
                });
            }
            Err(e) => diags.push(*e),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    lower_files(&parsed)
}

/// Reads the imports of `file`, depth first, so that `order` ends with the files
/// every file depends on before it.
fn collect(
    sources: &mut SourceMap,
    file: FileId,
    stack: &mut Vec<PathBuf>,
    order: &mut Vec<FileId>,
    diags: &mut Diagnostics,
) {
    let text = sources.text(file).to_string();
    let dir = Path::new(sources.name(file))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let me = std::fs::canonicalize(sources.name(file))
        .unwrap_or_else(|_| PathBuf::from(sources.name(file)));
    stack.push(me);
    if let Ok(mut pairs) = parse_file(&text, file) {
        let imports: Vec<(String, Span)> = pairs
            .next()
            .map(|f| inner(&f))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|item| inner(&item).into_iter().next())
            .filter(|p| p.as_rule() == Rule::import)
            .filter_map(|p| {
                let s = inner(&p).into_iter().next()?;
                Some((crate::lower::string_of(&s)?, span_of(&p, file)))
            })
            .collect();
        for (rel, span) in imports {
            import(sources, &dir.join(&rel), span, stack, order, diags);
        }
    }
    stack.pop();
    order.push(file);
}

fn import(
    sources: &mut SourceMap,
    path: &Path,
    span: Span,
    stack: &mut Vec<PathBuf>,
    order: &mut Vec<FileId>,
    diags: &mut Diagnostics,
) {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if stack.contains(&canonical) {
        diags.push(
            Diagnostic::error(
                "E0204",
                format!("import cycle through `{}`", path.display()),
            )
            .primary(span, "this import leads back to a file that imports it")
            .help("move the shared definitions into a third file that both import"),
        );
        return;
    }
    let already = sources
        .names()
        .any(|n| std::fs::canonicalize(n).is_ok_and(|c| c == canonical));
    if already {
        return;
    }
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let id = sources.add(path.display().to_string(), text);
            collect(sources, id, stack, order, diags);
        }
        Err(e) => diags.push(
            Diagnostic::error("E0204", format!("cannot import `{}`", path.display()))
                .primary(span, e.to_string())
                .help("import paths are relative to the importing file"),
        ),
    }
}
