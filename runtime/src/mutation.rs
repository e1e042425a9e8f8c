//! Changes the proxy asks a codec to make while re-encoding a frame.

use bytestring::ByteString;
use smallvec::SmallVec;

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
    #[inline]
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
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.request_id.is_none() && self.properties.is_empty()
    }

    /// Applies the property changes to a key/value list of the owned message.
    #[inline]
    pub fn apply_to(&self, list: &mut Vec<(ByteString, ByteString)>) {
        for (key, value) in &self.properties {
            match list.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value.clone(),
                None => list.push((key.clone(), value.clone())),
            }
        }
    }
}

impl Mutation {
    /// The value the last property with this key sets.
    fn last_value(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| &**v)
    }

    /// The pairs of a key/value list with the property changes applied, in the
    /// order [`Mutation::apply_to`] would leave them, borrowing instead of building
    /// an owned list. Lists of up to 16 pairs need no allocation.
    #[inline]
    pub fn rewritten<'e>(
        &'e self,
        entries: impl Iterator<Item = (&'e str, &'e str)>,
    ) -> SmallVec<[(&'e str, &'e str); 16]> {
        let mut out: SmallVec<[(&'e str, &'e str); 16]> = entries.collect();
        let original = out.len();
        for (j, (k, _)) in self.properties.iter().enumerate() {
            if self.properties[..j].iter().any(|(pk, _)| pk == k) {
                continue;
            }
            let value = self.last_value(k).unwrap_or_default();
            match out[..original].iter_mut().find(|(ek, _)| *ek == &**k) {
                Some(slot) => slot.1 = value,
                None => out.push((k, value)),
            }
        }
        out
    }
}

impl Mutation {
    /// True when a change sets `key` (so it replaces an entry with that key).
    #[inline]
    pub fn replaces_key(&self, key: &str) -> bool {
        self.properties.iter().any(|(pk, _)| &**pk == key)
    }

    /// True when some property replaces an entry of a key/value list. When none does,
    /// the changed list is the list as it is followed by [`Mutation::appended`], so a
    /// re-encoder can copy the list's bytes instead of re-encoding them.
    #[inline]
    pub fn replaces_any<'e>(&self, mut entries: impl Iterator<Item = (&'e str, &'e str)>) -> bool {
        entries.any(|(k, _)| self.replaces_key(k))
    }

    /// The pairs appended to a key/value list that no property replaces an entry of:
    /// each key once, in first-set order, with the last value set for it (what
    /// [`Mutation::apply_to`] appends).
    #[inline]
    pub fn appended(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        // Usually every key is set once: then each pair is its own last value, and the
        // scans for earlier and later settings of the same key are skipped.
        let distinct = self
            .properties
            .iter()
            .enumerate()
            .all(|(j, (k, _))| !self.properties[..j].iter().any(|(pk, _)| pk == k));
        self.properties
            .iter()
            .enumerate()
            .filter(move |(j, (k, _))| {
                distinct || !self.properties[..*j].iter().any(|(pk, _)| pk == k)
            })
            .map(move |(_, (k, v))| {
                let v = if distinct {
                    &**v
                } else {
                    self.last_value(k).unwrap_or_default()
                };
                (&**k, v)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewritten_lists_what_apply_to_builds() {
        let original = [("a", "1"), ("b", "2"), ("a", "3")];
        let m = Mutation::new()
            .with("a", "x")
            .with("c", "y")
            .with("a", "z")
            .with("c", "w");
        let streamed: Vec<String> = m
            .rewritten(original.iter().copied())
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut list: Vec<(ByteString, ByteString)> = original
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        m.apply_to(&mut list);
        let built: Vec<String> = list.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(streamed, built);
        assert_eq!(built, ["a=z", "b=2", "a=3", "c=w"]);
    }

    #[test]
    fn appends_unless_a_key_is_replaced() {
        let original = [("a", "1"), ("b", "2")];
        let m = Mutation::new().with("c", "x").with("d", "y").with("c", "z");
        assert!(!m.replaces_any(original.iter().copied()));
        let added: Vec<_> = m.appended().collect();
        assert_eq!(added, [("c", "z"), ("d", "y")]);
        let mut streamed: Vec<_> = original.to_vec();
        streamed.extend(added);
        assert_eq!(streamed, m.rewritten(original.iter().copied()).to_vec());
        assert!(m.with("b", "w").replaces_any(original.iter().copied()));
        let distinct = Mutation::new().with("c", "x").with("d", "y");
        let added: Vec<_> = distinct.appended().collect();
        assert_eq!(added, [("c", "x"), ("d", "y")]);
    }

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
