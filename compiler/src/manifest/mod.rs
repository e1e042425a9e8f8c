//! Mesh manifests from a schema: the Aeraki `ApplicationProtocol`, a Kubernetes `Service`
//! (or an Istio `ServiceEntry`) whose port is named `tcp-metaprotocol-<protocol>-<suffix>`,
//! a `MetaRouter` to start from, and optionally a gateway that runs `mproto proxy` in a
//! cluster or (`standalone`) the `Proxy` object that runs it on this machine.
//!
//! Objects are typed (k8s-openapi for core kinds, `mproto_runtime::mesh` for the rest), so
//! what the compiler emits is exactly what the proxy reads. Every option is checked, and
//! every problem reported, before any object is built.
//!
//! ```
//! use mproto_compiler::manifest::{ManifestOptions, emit_manifests, render_yaml};
//! # let schema = mproto_compiler::ir::Schema::default();
//! let options = ManifestOptions { namespace: Some("rpc".into()), ..ManifestOptions::default() };
//! match emit_manifests(&schema, &options) {
//!     Ok(objects) => print!("{}", render_yaml(&objects)),
//!     Err(errors) => errors.iter().for_each(|e| eprintln!("error: {e}")),
//! }
//! ```

mod check;
mod crd;
mod emit;
mod gateway;
pub mod names;
mod object;
mod options;
mod plan;
mod render;
mod routes;

#[cfg(test)]
mod tests;

pub use check::{CheckReport, check_files, check_str};
pub use crd::{APPLICATION_PROTOCOL_CRD, CrdValidators, META_ROUTER_CRD};
pub use object::{Body, Object};
pub use options::{
    CLUSTER_DOMAIN, DEFAULT_IMAGE, DEFAULT_NAMESPACE, DEFAULT_PORT, DEFAULT_PORT_SUFFIX, Endpoint,
    GATEWAY_ADMIN_PORT, GATEWAY_CONFIG_DIR, GATEWAY_CONFIG_FILE, LoadBalancer, ManifestOptions,
    Resolution, STANDALONE_HOST, Subset,
};
pub use plan::ManifestError;
pub use render::{file_name, render_object, render_yaml, write_dir};
pub use routes::EXAMPLE_VALUE;

use std::path::Path;

use crate::{Diagnostics, SourceMap, ir};

/// Why a schema file gave no manifests.
#[derive(Debug)]
pub enum FileError {
    /// The schema does not compile.
    Schema(Diagnostics),
    /// The schema compiles, but it or the options cannot give valid manifests.
    Manifest(Vec<ManifestError>),
}

/// Compiles a schema file and emits its manifests (the library form of `mproto manifests`).
pub fn emit_file(
    path: &Path,
    options: &ManifestOptions,
    sources: &mut SourceMap,
) -> Result<Vec<Object>, FileError> {
    let compiled = crate::compile_file(path, sources).map_err(FileError::Schema)?;
    emit_manifests(&compiled.schema, options).map_err(FileError::Manifest)
}

/// The manifests that put the schema's protocol into a mesh, in apply order, or every
/// problem with the schema and options.
pub fn emit_manifests(
    schema: &ir::Schema,
    options: &ManifestOptions,
) -> Result<Vec<Object>, Vec<ManifestError>> {
    let plan = plan::plan(schema, options)?;
    let mut objects = emit::mesh_objects(&plan);
    if let Some(gw) = &plan.gateway {
        objects.extend(gateway::gateway_objects(&plan, gw));
    }
    if let Some(standalone) = &plan.standalone {
        objects.push(emit::standalone_proxy(&plan, standalone));
    }
    Ok(objects)
}
