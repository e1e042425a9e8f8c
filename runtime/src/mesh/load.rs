//! Loading mesh objects from multi-document YAML: known kinds are typed and checked,
//! other kinds (Deployments, ConfigMaps…) are skipped.

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_norway::Value;

use super::aeraki::{ApplicationProtocol, MetaRouter};
use super::check::CheckSpec;
use super::error::{ConfigError, ConfigErrors};
use super::istio::{DestinationRule, Service, ServiceEntry, WorkloadEntryObject};
use super::objects::{Kind, ObjectId, ObjectMeta, Resource};
use super::proxy::Proxy;

/// Where an object was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file (or source name).
    pub file: String,
    /// The object's document index in the file, from 0.
    pub document: usize,
}

/// A loaded object and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    /// Where the object was defined.
    pub source: Source,
    /// The object.
    pub object: T,
}

/// Every mesh object of the configuration, by kind, in load order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mesh {
    /// `ApplicationProtocol` objects.
    pub application_protocols: Vec<Loaded<ApplicationProtocol>>,
    /// `MetaRouter` objects.
    pub meta_routers: Vec<Loaded<MetaRouter>>,
    /// `ServiceEntry` objects.
    pub service_entries: Vec<Loaded<ServiceEntry>>,
    /// `DestinationRule` objects.
    pub destination_rules: Vec<Loaded<DestinationRule>>,
    /// `WorkloadEntry` objects (endpoints selected by a `ServiceEntry`'s `workloadSelector`).
    pub workload_entries: Vec<Loaded<WorkloadEntryObject>>,
    /// Kubernetes `Service` objects.
    pub services: Vec<Loaded<Service>>,
    /// mproto `Proxy` objects.
    pub proxies: Vec<Loaded<Proxy>>,
    /// Objects of other kinds that were skipped, as `(source, kind)`.
    pub skipped: Vec<(Source, String)>,
}

impl Mesh {
    /// Loads and checks every object in `paths`.
    pub fn load_files<P: AsRef<Path>>(paths: &[P]) -> Result<Mesh, ConfigErrors> {
        let mut mesh = Mesh::default();
        let mut errors = ConfigErrors::default();
        for path in paths {
            let path = path.as_ref();
            let name = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(text) => mesh.add_text(&name, &text, &mut errors),
                Err(e) => errors.push(ConfigError::file(name, format!("cannot read: {e}"))),
            }
        }
        mesh.check_duplicates(&mut errors);
        errors.into_result(mesh)
    }

    /// Loads and checks every object in `text`, naming it `source` in errors.
    pub fn load_str(source: &str, text: &str) -> Result<Mesh, ConfigErrors> {
        let mut mesh = Mesh::default();
        let mut errors = ConfigErrors::default();
        mesh.add_text(source, text, &mut errors);
        mesh.check_duplicates(&mut errors);
        errors.into_result(mesh)
    }

    /// Adds the objects of one more YAML text, recording problems in `errors`.
    pub fn add_text(&mut self, file: &str, text: &str, errors: &mut ConfigErrors) {
        for (document, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
            let source = Source {
                file: file.to_owned(),
                document,
            };
            match Value::deserialize(doc) {
                Ok(Value::Null) => {}
                Ok(value) => self.add_value(source, value, errors),
                Err(e) => {
                    // A syntax error ends the stream: later documents cannot be trusted.
                    errors.push(ConfigError::file(file, format!("invalid YAML: {e}")));
                    return;
                }
            }
        }
    }

    fn add_value(&mut self, source: Source, value: Value, errors: &mut ConfigErrors) {
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let api_version = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let known = |k: &str, g: &str| kind == k && group == g;
        macro_rules! add {
            ($spec:ty, $list:ident) => {{
                if let Some(object) = typed::<$spec>(&source, value, errors) {
                    self.$list.push(Loaded { source, object });
                }
            }};
        }
        use super::aeraki::{ApplicationProtocolSpec as Ap, MetaRouterSpec as Mr};
        use super::istio::{
            DestinationRuleSpec as Dr, ServiceEntrySpec as Se, ServiceSpec as Sv,
            WorkloadEntry as We,
        };
        use super::proxy::ProxySpec as Px;
        match () {
            _ if known(Ap::KIND, Ap::GROUP) => add!(Ap, application_protocols),
            _ if known(Mr::KIND, Mr::GROUP) => add!(Mr, meta_routers),
            _ if known(Se::KIND, Se::GROUP) => add!(Se, service_entries),
            _ if known(Dr::KIND, Dr::GROUP) => add!(Dr, destination_rules),
            _ if known(Sv::KIND, Sv::GROUP) => add!(Sv, services),
            _ if known(We::KIND, We::GROUP) => add!(We, workload_entries),
            _ if known(Px::KIND, Px::GROUP) => add!(Px, proxies),
            _ => self.skipped.push((source, kind.to_owned())),
        }
    }

    /// Two objects of one kind with the same namespace and name are a mistake, not an override.
    fn check_duplicates(&self, errors: &mut ConfigErrors) {
        dup(&self.application_protocols, errors);
        dup(&self.meta_routers, errors);
        dup(&self.service_entries, errors);
        dup(&self.destination_rules, errors);
        dup(&self.services, errors);
        dup(&self.workload_entries, errors);
        dup(&self.proxies, errors);
    }
}

/// Deserializes one document as `Resource<S>` and checks its fields.
fn typed<S: Kind + DeserializeOwned>(
    source: &Source,
    value: Value,
    errors: &mut ConfigErrors,
) -> Option<Resource<S>>
where
    Resource<S>: CheckSpec,
{
    let meta = value
        .get("metadata")
        .cloned()
        .and_then(|m| serde_norway::from_value::<ObjectMeta>(m).ok())
        .unwrap_or_default();
    let id = ObjectId::new(S::KIND, &meta);
    match serde_path_to_error::deserialize::<_, Resource<S>>(value) {
        Ok(object) => {
            let before = errors.0.len();
            let mut problems = Vec::new();
            if object.metadata.name.is_empty() {
                problems.push(("metadata.name".into(), "every object needs a name".into()));
            }
            object.check_spec(&mut problems);
            for (field, message) in problems {
                errors.push(ConfigError::field(&source.file, id.clone(), field, message));
            }
            (errors.0.len() == before).then_some(object)
        }
        Err(e) => {
            let field = e.path().to_string();
            let field = if field == "." { String::new() } else { field };
            let message = e.into_inner().to_string();
            errors.push(ConfigError::field(&source.file, id, field, message));
            None
        }
    }
}

fn dup<S: Kind>(list: &[Loaded<Resource<S>>], errors: &mut ConfigErrors) {
    for (i, a) in list.iter().enumerate() {
        if let Some(b) = list[..i].iter().find(|b| b.object.id() == a.object.id()) {
            errors.push(ConfigError::field(
                &a.source.file,
                a.object.id(),
                "metadata.name",
                format!("defined again (first in {})", b.source.file),
            ));
        }
    }
}
