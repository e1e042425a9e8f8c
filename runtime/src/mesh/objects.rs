//! The envelope every mesh object shares: `apiVersion`, `kind`, `metadata`, `spec`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A mesh object kind the models know: its `kind` and `apiVersion`.
pub trait Kind {
    /// The object's `kind`, e.g. `MetaRouter`.
    const KIND: &'static str;
    /// The `apiVersion` written when the object is serialized.
    const API_VERSION: &'static str;
    /// The API group accepted on load (`""` for the core group).
    const GROUP: &'static str;
}

/// A Kubernetes-style object: `apiVersion`, `kind`, `metadata` and a typed `spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource<S> {
    /// The object's API group and version.
    pub api_version: String,
    /// The object's kind.
    pub kind: String,
    /// Name, namespace, labels and annotations.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The kind-specific body.
    pub spec: S,
}

impl<S: Kind> Resource<S> {
    /// An object named `name` with `spec`, with the kind's `apiVersion` and `kind`.
    pub fn new(name: impl Into<String>, spec: S) -> Self {
        Resource {
            api_version: S::API_VERSION.to_owned(),
            kind: S::KIND.to_owned(),
            metadata: ObjectMeta {
                name: name.into(),
                ..ObjectMeta::default()
            },
            spec,
        }
    }

    /// `Kind/namespace/name`, for error messages.
    pub fn id(&self) -> ObjectId {
        ObjectId::new(S::KIND, &self.metadata)
    }
}

/// Name, namespace, labels and annotations of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// The object's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The object's namespace; empty for cluster-scoped objects or the default.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Labels.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

/// Identifies an object in messages: `Kind namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// The object's kind.
    pub kind: String,
    /// The object's namespace (may be empty).
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl ObjectId {
    /// The id of an object of `kind` with `meta`.
    pub fn new(kind: &str, meta: &ObjectMeta) -> Self {
        ObjectId {
            kind: kind.to_owned(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.namespace.is_empty(), self.name.is_empty()) {
            (_, true) => write!(f, "{} (unnamed)", self.kind),
            (true, false) => write!(f, "{} {}", self.kind, self.name),
            (false, false) => write!(f, "{} {}/{}", self.kind, self.namespace, self.name),
        }
    }
}

/// Reads `null` as the type's default, as Kubernetes does for empty maps and lists.
pub(crate) fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

/// `skip_serializing_if` helper for `bool` fields that default to false.
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}
