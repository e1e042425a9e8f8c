//! Compiling schemas from a `build.rs`, in the spirit of prost-build's `Config`.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), mproto_compiler::build::Error> {
//!     mproto_compiler::Config::new().compile(&["schemas/awesomerpc.mproto"])
//! }
//! ```
//!
//! Each schema becomes `$OUT_DIR/<file stem>.rs`; include it with
//! `mproto::include_schema!("awesomerpc")`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::codegen::{self, Options};
use crate::diag::SourceMap;

/// Settings for compiling schemas into Rust modules.
#[derive(Debug, Clone)]
pub struct Config {
    out_dir: Option<PathBuf>,
    runtime: String,
    rerun_if_changed: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            out_dir: None,
            runtime: "::mproto".into(),
            rerun_if_changed: true,
        }
    }
}

/// A schema compiled to Rust source.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The module's file name, `<stem>.rs`.
    pub file_name: String,
    /// The formatted Rust source.
    pub code: String,
    /// Every schema file read (the root and its imports).
    pub sources: Vec<PathBuf>,
}

impl Config {
    /// The defaults: output to `$OUT_DIR`, runtime at `::mproto`, `rerun-if-changed` on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes generated modules here instead of `$OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// The path generated code uses to reach the runtime: `::mproto` (the default)
    /// for crates that depend on the facade, `::mproto_runtime` for the runtime alone.
    pub fn runtime_path(&mut self, path: impl Into<String>) -> &mut Self {
        self.runtime = path.into();
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for every schema read (default: yes).
    pub fn emit_rerun_if_changed(&mut self, on: bool) -> &mut Self {
        self.rerun_if_changed = on;
        self
    }

    /// Compiles one schema to Rust source without writing anything.
    pub fn generate(&self, schema: &Path) -> Result<Generated, Error> {
        let mut sources = SourceMap::new();
        let compiled = crate::compile_file(schema, &mut sources)
            .map_err(|d| Error::Schema(crate::diag::render_plain(&sources, &d.into_sorted())))?;
        let stem = schema
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("schema");
        let options = Options {
            runtime: self.runtime.clone(),
            source_name: schema
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("schema.mproto")
                .to_string(),
        };
        Ok(Generated {
            file_name: format!("{stem}.rs"),
            code: codegen::emit_schema(&compiled.schema, &compiled.layout, &options),
            sources: vec![],
        })
    }

    /// Compiles schemas into the output directory, rewriting only files whose
    /// contents change so that cargo does not rebuild needlessly.
    pub fn compile<P: AsRef<Path>>(&self, schemas: &[P]) -> Result<(), Error> {
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let mut failures = Vec::new();
        for schema in schemas {
            let schema = schema.as_ref();
            if self.rerun_if_changed {
                println!("cargo:rerun-if-changed={}", schema.display());
            }
            match self.generate(schema) {
                Ok(generated) => {
                    if self.rerun_if_changed {
                        for s in generated.sources.iter().filter(|s| s.as_path() != schema) {
                            println!("cargo:rerun-if-changed={}", s.display());
                        }
                    }
                    write_if_changed(&out_dir.join(&generated.file_name), &generated.code)?;
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::Schema(failures.join("\n")))
        }
    }
}

fn write_if_changed(path: &Path, code: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == code) {
        return Ok(());
    }
    std::fs::write(path, code).map_err(|e| Error::Io(path.to_path_buf(), e))
}

/// Why schemas could not be compiled.
pub enum Error {
    /// The schemas have errors; the rendered diagnostics.
    Schema(String),
    /// `OUT_DIR` is not set and no output directory was given.
    NoOutDir,
    /// A generated file could not be written.
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Schema(rendered) => f.write_str(rendered.trim_end()),
            Error::NoOutDir => {
                f.write_str("OUT_DIR is not set: call `out_dir` or run from a build script")
            }
            Error::Io(path, e) => write!(f, "cannot write {}: {e}", path.display()),
        }
    }
}

/// Shows the rendered diagnostics, so `fn main() -> Result<(), Error>` in a build
/// script prints them as they are.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{self}")
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_writes_modules_and_leaves_unchanged_files_alone() {
        let dir = std::env::temp_dir().join(format!("mproto-build-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/dubbo.mproto");
        let mut config = Config::new();
        config
            .out_dir(&dir)
            .emit_rerun_if_changed(false)
            .runtime_path("::mproto_runtime");
        config.compile(&[&schema]).unwrap();
        let out = dir.join("dubbo.rs");
        let first = std::fs::metadata(&out).unwrap().modified().unwrap();
        let code = std::fs::read_to_string(&out).unwrap();
        assert!(code.starts_with("// @generated by mproto-compiler"));
        assert!(code.contains("use ::mproto_runtime::__private as __mp;"));
        config.compile(&[&schema]).unwrap();
        assert_eq!(std::fs::metadata(&out).unwrap().modified().unwrap(), first);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn broken_schemas_fail_with_rendered_diagnostics() {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics/unknown_type.mproto");
        let err = Config::new()
            .out_dir(std::env::temp_dir())
            .emit_rerun_if_changed(false)
            .compile(&[&dir])
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("error[E0201]") && text.contains("did you mean `Kind`?"),
            "{text}"
        );
    }
}
