//! `mproto manifests --check`: validates hand-written manifests against Aeraki's CRDs and
//! loads them into the proxy's configuration model.

use std::path::Path;

use mproto_runtime::mesh::{ConfigError, ConfigErrors, Mesh, ObjectId, ObjectMeta};
use serde::Deserialize;
use serde_json::Value;

use super::crd::CrdValidators;

/// The API group whose kinds the CRDs define.
const AERAKI_GROUP: &str = "metaprotocol.aeraki.io";

/// What a check found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Documents read (empty documents not counted).
    pub documents: usize,
    /// Objects validated against a CRD schema.
    pub crd_validated: usize,
    /// Problems: the manifests would be rejected by a cluster or by `mproto proxy`.
    pub errors: Vec<ConfigError>,
    /// Things that work in one place but not the other.
    pub warnings: Vec<ConfigError>,
}

impl CheckReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks every file: each Aeraki object against its CRD, then all together as the proxy loads them.
pub fn check_files<P: AsRef<Path>>(paths: &[P]) -> CheckReport {
    let mut report = CheckReport::default();
    let validators = match CrdValidators::new() {
        Ok(v) => v,
        Err(e) => {
            report.errors.push(ConfigError::file("<embedded CRDs>", e));
            return report;
        }
    };
    for path in paths {
        let name = path.as_ref().display().to_string();
        // Unreadable files and YAML syntax errors are reported once, by the loader below.
        if let Ok(text) = std::fs::read_to_string(path.as_ref()) {
            check_crds(&validators, &name, &text, &mut report);
        }
    }
    if let Err(ConfigErrors(errors)) = Mesh::load_files(paths) {
        report.errors.extend(errors);
    }
    report
}

/// Checks YAML text: its Aeraki objects against the CRDs, then the whole as the proxy loads it.
pub fn check_str(name: &str, text: &str) -> CheckReport {
    let mut report = CheckReport::default();
    match CrdValidators::new() {
        Ok(v) => check_crds(&v, name, text, &mut report),
        Err(e) => report.errors.push(ConfigError::file("<embedded CRDs>", e)),
    }
    if let Err(ConfigErrors(errors)) = Mesh::load_str(name, text) {
        report.errors.extend(errors);
    }
    report
}

/// Validates each Aeraki document of `text` against its CRD.
fn check_crds(validators: &CrdValidators, file: &str, text: &str, report: &mut CheckReport) {
    for doc in serde_norway::Deserializer::from_str(text) {
        let Ok(mut value) = Value::deserialize(doc) else {
            return;
        };
        if value.is_null() {
            continue;
        }
        report.documents += 1;
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        let group = value["apiVersion"]
            .as_str()
            .and_then(|v| v.rsplit_once('/'))
            .map_or("", |(g, _)| g);
        if group != AERAKI_GROUP {
            continue;
        }
        let meta =
            serde_json::from_value::<ObjectMeta>(value["metadata"].clone()).unwrap_or_default();
        let id = ObjectId::new(&kind, &meta);
        for field in take_extensions(&mut value) {
            report.warnings.push(ConfigError::field(
                file,
                id.clone(),
                field,
                "mproto extension: `mproto proxy` reads it, but Aeraki's CRD does not declare \
                 it, so a cluster rejects it (strict field validation) or drops it",
            ));
        }
        let Some(problems) = validators.validate(&kind, &value) else {
            report.errors.push(ConfigError::field(
                file,
                id,
                "kind",
                format!(
                    "Aeraki defines no kind `{kind}` (only ApplicationProtocol and MetaRouter)"
                ),
            ));
            continue;
        };
        report.crd_validated += 1;
        for (field, message) in problems {
            let message = format!("does not match the {kind} CRD: {message}");
            report
                .errors
                .push(ConfigError::field(file, id.clone(), field, message));
        }
    }
}

/// Removes the fields mproto adds to Aeraki's kinds (route `timeout`), returning their paths.
fn take_extensions(value: &mut Value) -> Vec<String> {
    let Some(routes) = value
        .pointer_mut("/spec/routes")
        .and_then(Value::as_array_mut)
    else {
        return Vec::new();
    };
    routes
        .iter_mut()
        .enumerate()
        .filter_map(|(i, route)| {
            let route = route.as_object_mut()?;
            route.remove("timeout")?;
            Some(format!("spec.routes[{i}].timeout"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTER: &str = "apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: r, namespace: ns}
spec:
  hosts: [h]
  routes:
  - name: a
    timeout: 2s
    route: [{destination: {host: h}}]
";

    #[test]
    fn the_timeout_extension_is_a_warning_not_an_error() {
        let report = check_str("r.yaml", ROUTER);
        assert!(report.is_ok(), "{:?}", report.errors);
        assert_eq!(report.crd_validated, 1);
        assert_eq!(report.warnings.len(), 1);
        let w = report.warnings[0].to_string();
        assert!(
            w.starts_with(
                "r.yaml: MetaRouter ns/r: field `spec.routes[0].timeout`: mproto extension"
            ),
            "{w}"
        );
    }

    #[test]
    fn crd_and_loader_problems_are_both_reported() {
        let text = ROUTER
            .replace("timeout: 2s", "weight: 3")
            .replace("hosts: [h]", "hosts: []");
        let report = check_str("r.yaml", &text);
        let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        // From the CRD: a route has no `weight` field (it belongs to a destination).
        assert!(
            errors
                .iter()
                .any(|e| e.contains("field `spec.routes[0]`") && e.contains("weight")),
            "{errors:#?}"
        );
        // From the proxy's loader.
        assert!(
            errors.iter().any(|e| e.contains("spec.routes[0].weight")),
            "{errors:#?}"
        );
    }

    #[test]
    fn proxy_limits_are_checked_against_the_proxy_model() {
        let proxy = |idle: &str| {
            format!(
                "apiVersion: mproto.io/v1alpha1\nkind: Proxy\nmetadata: {{name: p}}\nspec:\n  \
                 listeners: [{{address: \"0.0.0.0:9000\", host: h, port: 9000}}]\n  \
                 limits: {{upstreamIdleTimeout: {idle}}}\n"
            )
        };
        let report = check_str("p.yaml", &proxy("2m"));
        assert!(report.is_ok(), "{:?}", report.errors);
        let report = check_str("p.yaml", &proxy("forever"));
        let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        assert!(
            errors.iter().any(
                |e| e.starts_with("p.yaml: Proxy p: field `spec.limits.upstreamIdleTimeout`: ")
            ),
            "{errors:#?}"
        );
    }

    #[test]
    fn unknown_aeraki_kinds_are_errors() {
        let text =
            "apiVersion: metaprotocol.aeraki.io/v1alpha1\nkind: MetaRoute\nmetadata: {name: x}\n";
        let report = check_str("x.yaml", text);
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.to_string().contains("Aeraki defines no kind `MetaRoute`")),
            "{:?}",
            report.errors
        );
    }
}
