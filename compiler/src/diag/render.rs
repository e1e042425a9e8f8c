//! Renders diagnostics like rustc, through codespan-reporting.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{SimpleFile, SimpleFiles};
use codespan_reporting::term::{self, Chars, Config, Styles, StylesWriter, termcolor};

use super::{Diagnostic, FileId, Severity};

/// The source files of a run, for rendering snippets.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: SimpleFiles<String, String>,
    names: Vec<String>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let name = name.into();
        self.names.push(name.clone());
        FileId(self.files.add(name, text.into()) as u32)
    }

    /// A file's name.
    pub fn name(&self, id: FileId) -> &str {
        self.file(id).map_or("<unknown>", |f| f.name().as_str())
    }

    /// A file's text.
    pub fn text(&self, id: FileId) -> &str {
        self.file(id).map_or("", |f| f.source().as_str())
    }

    /// The names of every file read, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    fn file(&self, id: FileId) -> Option<&SimpleFile<String, String>> {
        self.files.get(id.0 as usize).ok()
    }
}

fn to_codespan(d: &Diagnostic) -> cs::Diagnostic<usize> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let labels = d
        .labels
        .iter()
        .map(|l| {
            let style = if l.primary {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            cs::Label::new(
                style,
                l.span.file.0 as usize,
                l.span.start as usize..l.span.end as usize,
            )
            .with_message(&l.message)
        })
        .collect();
    let mut notes: Vec<String> = d.notes.clone();
    if let Some(h) = &d.help {
        notes.push(format!("help: {h}"));
    }
    cs::Diagnostic::new(severity)
        .with_code(d.code)
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// Renders diagnostics without colour, for files and snapshots.
pub fn render_plain(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    render_all(sources, diagnostics, false)
}

/// Renders diagnostics, with ANSI colour if asked.
pub fn render_all(sources: &SourceMap, diagnostics: &[Diagnostic], color: bool) -> String {
    // ASCII borders read like rustc's `-->` and `|`.
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    let mut out = String::new();
    for d in diagnostics {
        let cd = to_codespan(d);
        let rendered = if color {
            let mut buf = termcolor::Buffer::ansi();
            let styles = Styles::default();
            let mut w = StylesWriter::new(&mut buf, &styles);
            term::emit_to_write_style(&mut w, &config, &sources.files, &cd)
                .ok()
                .map(|()| String::from_utf8_lossy(buf.as_slice()).into_owned())
        } else {
            term::emit_into_string(&config, &sources.files, &cd).ok()
        };
        out.push_str(
            &rendered.unwrap_or_else(|| format!("{}[{}]: {}\n", "error", d.code, d.message)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;

    #[test]
    fn renders_like_rustc() {
        let mut map = SourceMap::new();
        let f = map.add("demo.mproto", "frame M {\n    a: u9\n}\n");
        let d = Diagnostic::error("E0201", "unknown type `u9`")
            .primary(Span::new(f, 17, 19), "no type named `u9`")
            .help("did you mean `u8`?");
        let text = render_plain(&map, &[d]);
        assert!(text.contains("error[E0201]: unknown type `u9`"), "{text}");
        assert!(text.contains("--> demo.mproto:2:8"), "{text}");
        assert!(text.contains("^^ no type named `u9`"), "{text}");
        assert!(text.contains("= help: did you mean `u8`?"), "{text}");
    }
}
