//! Writes objects as multi-document YAML, or one file per object into a directory.

use std::io;
use std::path::{Path, PathBuf};

use super::object::Object;

/// All objects as one multi-document YAML stream, each with its comment above it.
pub fn render_yaml(objects: &[Object]) -> String {
    objects
        .iter()
        .map(render_object)
        .collect::<Vec<_>>()
        .join("---\n")
}

/// One object as a YAML document (without a `---` separator), its comment first.
pub fn render_object(object: &Object) -> String {
    let mut out = String::new();
    for line in &object.comment {
        out.push_str(format!("# {line}").trim_end());
        out.push('\n');
    }
    // Typed objects with string keys always serialize; an empty body would show the bug.
    out.push_str(&serde_norway::to_string(&object.body).unwrap_or_default());
    out
}

/// `NN-kind-name.yaml`: numbered so that `kubectl apply -f DIR` keeps the emitted order.
pub fn file_name(index: usize, object: &Object) -> String {
    format!(
        "{:02}-{}-{}.yaml",
        index + 1,
        object.kind().to_ascii_lowercase(),
        object.name()
    )
}

/// Writes each object to its own file in `dir` (created if missing); returns the paths.
pub fn write_dir(objects: &[Object], dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    objects
        .iter()
        .enumerate()
        .map(|(i, object)| {
            let path = dir.join(file_name(i, object));
            std::fs::write(&path, render_object(object))?;
            Ok(path)
        })
        .collect()
}
