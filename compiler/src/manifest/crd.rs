//! Validation against Aeraki's CRDs: the `openAPIV3Schema` a cluster applies to
//! `ApplicationProtocol` and `MetaRouter` objects, embedded from `compiler/crds/`.

use jsonschema::Validator;
use serde_json::{Map, Value, json};

/// Aeraki's `applicationprotocols.metaprotocol.aeraki.io` CRD, as published.
pub const APPLICATION_PROTOCOL_CRD: &str = include_str!("../../crds/applicationprotocols-crd.yaml");
/// Aeraki's `metarouters.metaprotocol.aeraki.io` CRD, as published.
pub const META_ROUTER_CRD: &str = include_str!("../../crds/metarouters-crd.yaml");
/// The CRD version the schemas are taken from.
const VERSION: &str = "v1alpha1";

/// Validators for the kinds Aeraki defines.
pub struct CrdValidators {
    application_protocol: Validator,
    meta_router: Validator,
}

impl CrdValidators {
    /// Compiles the embedded CRD schemas.
    pub fn new() -> Result<Self, String> {
        Ok(CrdValidators {
            application_protocol: compile(APPLICATION_PROTOCOL_CRD)?,
            meta_router: compile(META_ROUTER_CRD)?,
        })
    }

    /// Problems of `object` (a whole object as JSON) as `(field path, message)`; `None` when
    /// Aeraki's CRDs do not define `kind`.
    pub fn validate(&self, kind: &str, object: &Value) -> Option<Vec<(String, String)>> {
        let validator = match kind {
            "ApplicationProtocol" => &self.application_protocol,
            "MetaRouter" => &self.meta_router,
            _ => return None,
        };
        let problems = validator
            .iter_errors(object)
            .map(|e| (field_path(&e.instance_path().to_string()), e.to_string()))
            .collect();
        Some(problems)
    }
}

/// The `openAPIV3Schema` of a CRD's served version, made strict, as a validator.
fn compile(crd: &str) -> Result<Validator, String> {
    let crd: Value = serde_norway::from_str(crd).map_err(|e| format!("CRD YAML: {e}"))?;
    let schema = crd["spec"]["versions"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"] == VERSION))
        .map(|v| v["schema"]["openAPIV3Schema"].clone())
        .filter(Value::is_object)
        .ok_or_else(|| format!("the CRD has no openAPIV3Schema for {VERSION}"))?;
    let schema = with_object_envelope(strict(schema));
    jsonschema::validator_for(&schema).map_err(|e| format!("CRD schema: {e}"))
}

/// Rejects fields the schema does not declare, as the API server's strict field validation
/// (kubectl's default) does: without this, JSON Schema lets any unknown field through, and
/// Kubernetes would silently prune it from a structural schema.
fn strict(mut schema: Value) -> Value {
    if let Some(map) = schema.as_object_mut() {
        let preserve = map.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
        if map.contains_key("properties") && !map.contains_key("additionalProperties") && !preserve
        {
            map.insert("additionalProperties".into(), json!(false));
        }
        for value in map.values_mut() {
            *value = strict(value.take());
        }
    } else if let Some(items) = schema.as_array_mut() {
        for value in items {
            *value = strict(value.take());
        }
    }
    schema
}

/// Declares the fields every object has, which CRD schemas leave implicit.
fn with_object_envelope(mut schema: Value) -> Value {
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        let implicit: Map<String, Value> = [
            ("apiVersion", json!({"type": "string"})),
            ("kind", json!({"type": "string"})),
            ("metadata", json!({"type": "object"})),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        props.extend(implicit);
    }
    schema
}

/// `/spec/routes/0/match` → `spec.routes[0].match`, as the runtime's errors spell fields.
fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.parse::<usize>().is_ok() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validators() -> CrdValidators {
        CrdValidators::new().expect("the embedded CRDs compile")
    }

    #[test]
    fn embedded_crds_compile_and_accept_a_valid_object() {
        let v = validators();
        let ap = json!({"apiVersion": "metaprotocol.aeraki.io/v1alpha1", "kind": "ApplicationProtocol",
            "metadata": {"name": "dubbo"}, "spec": {"protocol": "dubbo", "codec": "c"}});
        assert_eq!(v.validate("ApplicationProtocol", &ap), Some(vec![]));
        assert_eq!(v.validate("Deployment", &ap), None);
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_reported_with_their_path() {
        let v = validators();
        let mr = json!({"apiVersion": "metaprotocol.aeraki.io/v1alpha1", "kind": "MetaRouter",
            "metadata": {"name": "r"},
            "spec": {"hosts": ["h"], "routes": [{"name": "a", "route": [
                {"destination": {"host": "h"}, "weight": "lots"}]}], "typo": 1}});
        let problems = v
            .validate("MetaRouter", &mr)
            .expect("MetaRouter is a CRD kind");
        let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert!(
            fields.contains(&"spec.routes[0].route[0].weight"),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|(f, m)| f == "spec" && m.contains("typo")),
            "{problems:?}"
        );
    }

    #[test]
    fn exact_prefix_and_regex_are_one_of() {
        let v = validators();
        let mr = json!({"apiVersion": "metaprotocol.aeraki.io/v1alpha1", "kind": "MetaRouter",
            "metadata": {"name": "r"},
            "spec": {"hosts": ["h"], "routes": [{"match": {"attributes": {
                "method": {"exact": "a", "prefix": "b"}}}, "route": [{"destination": {"host": "h"}}]}]}});
        let problems = v
            .validate("MetaRouter", &mr)
            .expect("MetaRouter is a CRD kind");
        assert!(
            problems
                .iter()
                .any(|(f, _)| f == "spec.routes[0].match.attributes.method"),
            "{problems:?}"
        );
    }

    #[test]
    fn pointers_become_field_paths() {
        assert_eq!(field_path(""), "");
        assert_eq!(field_path("/spec/routes/0/match"), "spec.routes[0].match");
        assert_eq!(field_path("/a~1b"), "a/b");
    }
}
