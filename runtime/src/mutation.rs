//! Changes the proxy asks a codec to make while re-encoding a frame.

use bytestring::ByteString;

/// Header changes applied on re-encode; the payload is left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mutation {
    /// A new request id, for proxies that multiplex downstream requests upstream.
    pub request_id: Option<u64>,
    /// Properties to set in the schema's mutation target: replace the first entry
    /// with the same key, or append.
    pub properties: Vec<(ByteString, ByteString)>,
}

impl Mutation {
    /// A mutation that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a property to set.
    #[must_use]
    pub fn with(mut self, key: impl Into<ByteString>, value: impl Into<ByteString>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }

    /// Sets the request id.
    #[must_use]
    pub fn with_request_id(mut self, id: u64) -> Self {
        self.request_id = Some(id);
        self
    }

    /// True when re-encoding with this mutation reproduces the frame.
    pub fn is_empty(&self) -> bool {
        self.request_id.is_none() && self.properties.is_empty()
    }

    /// Applies the property changes to a key/value list of the owned message.
    pub fn apply_to(&self, list: &mut Vec<(ByteString, ByteString)>) {
        for (key, value) in &self.properties {
            match list.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value.clone(),
                None => list.push((key.clone(), value.clone())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_replaces_then_appends() {
        let mut list: Vec<(ByteString, ByteString)> =
            vec![("a".into(), "1".into()), ("b".into(), "2".into())];
        Mutation::new()
            .with("b", "x")
            .with("c", "y")
            .apply_to(&mut list);
        let flat: Vec<String> = list.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(flat, ["a=1", "b=x", "c=y"]);
    }
}
