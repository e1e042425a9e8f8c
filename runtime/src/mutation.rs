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

/// How the property changes of a [`Mutation`] apply to a key/value list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRewrite<'e> {
    /// No property names a key of the list: the list stays as it is, byte for byte,
    /// and these pairs follow it.
    Append(SmallVec<[(&'e str, &'e str); 16]>),
    /// Some property replaces an entry: the whole list, as [`Mutation::rewritten`]
    /// gives it.
    Rebuild(SmallVec<[(&'e str, &'e str); 16]>),
}

impl Mutation {
    /// The property changes for a key/value list, as pairs to append to the list when
    /// they replace none of its entries (the list is then copied, not re-encoded), or
    /// as the whole rewritten list otherwise. Either way the result is the list
    /// [`Mutation::apply_to`] would build.
    #[inline]
    pub fn rewrite<'e, I>(&'e self, entries: I) -> ListRewrite<'e>
    where
        I: Iterator<Item = (&'e str, &'e str)> + Clone,
    {
        let replaces = entries
            .clone()
            .any(|(k, _)| self.properties.iter().any(|(pk, _)| &**pk == k));
        if replaces {
            return ListRewrite::Rebuild(self.rewritten(entries));
        }
        let mut added = SmallVec::new();
        for (j, (k, _)) in self.properties.iter().enumerate() {
            if self.properties[..j].iter().any(|(pk, _)| pk == k) {
                continue;
            }
            added.push((&**k, self.last_value(k).unwrap_or_default()));
        }
        ListRewrite::Append(added)
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
    fn rewrite_appends_unless_a_key_is_replaced() {
        let original = [("a", "1"), ("b", "2")];
        let m = Mutation::new().with("c", "x").with("d", "y").with("c", "z");
        let ListRewrite::Append(added) = m.rewrite(original.iter().copied()) else {
            panic!("no key of the list is set")
        };
        assert_eq!(added.as_slice(), [("c", "z"), ("d", "y")]);
        let m = m.clone().with("b", "w");
        assert_eq!(
            m.rewrite(original.iter().copied()),
            ListRewrite::Rebuild(m.rewritten(original.iter().copied()))
        );
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
