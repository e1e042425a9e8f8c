//! The mproto compiler: parses `.mproto` schemas, lowers them to one IR shared with
//! `#[derive(Codec)]`, checks them with rustc-style diagnostics, and generates
//! zero-copy Rust codecs and the mesh manifests that put the protocol into a service mesh.
//!
//! Data flows one way: `schema text → IR → checked IR → {Rust code, manifests}`.

pub mod build;
pub mod check;
pub mod codegen;
pub mod derive;
pub mod diag;
pub mod ir;
mod load;
mod lower;
#[cfg(feature = "manifest")]
pub mod manifest;
pub mod syntax;

use std::path::Path;

pub use build::Config;
pub use check::Layout;
pub use diag::{Diagnostic, Diagnostics, SourceMap};
pub use load::{load_schema, load_schema_str};

/// A schema that passed every check, with its layout.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The lowered schema.
    pub schema: ir::Schema,
    /// What the layout analysis found.
    pub layout: Layout,
}

/// Loads, lowers and checks a schema file (and its imports).
pub fn compile_file(path: &Path, sources: &mut SourceMap) -> Result<Compiled, Diagnostics> {
    let schema = load_schema(path, sources)?;
    check_schema(schema)
}

/// Loads, lowers and checks schema text; imports resolve relative to `name`.
pub fn compile_str(
    name: &str,
    text: &str,
    sources: &mut SourceMap,
) -> Result<Compiled, Diagnostics> {
    let schema = load_schema_str(name, text, sources)?;
    check_schema(schema)
}

/// Runs the checks that need the whole lowered schema.
pub fn check_schema(schema: ir::Schema) -> Result<Compiled, Diagnostics> {
    let layout = check::check_layout(&schema)?;
    let mut diags = Diagnostics::new();
    check::names::check_generated_names(&schema, &layout, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Compiled { schema, layout })
}

/// Generates Rust source for a schema file, with the runtime at `runtime`.
pub fn generate_file(
    path: &Path,
    runtime: &str,
    sources: &mut SourceMap,
) -> Result<String, Diagnostics> {
    let compiled = compile_file(path, sources)?;
    let options = codegen::Options {
        runtime: runtime.to_string(),
        source_name: path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("schema.mproto")
            .to_string(),
    };
    Ok(codegen::emit_schema(
        &compiled.schema,
        &compiled.layout,
        &options,
    ))
}
