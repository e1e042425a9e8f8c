//! Names the generated code defines: a schema type must not take one of them.

use crate::diag::{Diagnostic, Diagnostics};
use crate::ir::Schema;

use super::Layout;

/// Reports every name that two items of the generated module would share, such as a
/// struct `ARef` beside the view generated for `A`, or a frame `AbCodec` beside the
/// codec generated for protocol `ab`. Rust would refuse the generated code.
pub fn check_generated_names(schema: &Schema, layout: &Layout, diags: &mut Diagnostics) {
    let tokens = crate::codegen::emit_tokens(schema, layout, &Default::default());
    let mut seen = std::collections::HashSet::new();
    for name in item_names(tokens) {
        if seen.insert(name.clone()) {
            continue;
        }
        // The schema's own type of that name, or else the first type, to point at.
        let ty = schema
            .types
            .iter()
            .find(|t| t.name.name == name)
            .or(schema.types.first());
        let Some(ty) = ty else { continue };
        diags.push(
            Diagnostic::error("E0202", format!("`{name}` is also a name the generated code defines"))
                .primary(ty.name.span, "this type's generated code clashes with another's")
                .help("generated names add `Ref`, `Codec`, a field's name, `Elem` or `Entry` to a type's; rename one of the types"),
        );
    }
}

/// The names the module's top-level items define in the type namespace (`struct`,
/// `enum`, `type`, `trait`, `union`) and its `use … as` aliases, read off the tokens:
/// parsing the whole module with `syn` cost more than generating it.
fn item_names(tokens: proc_macro2::TokenStream) -> Vec<String> {
    use proc_macro2::TokenTree;
    let mut names = Vec::new();
    let mut prev: Option<String> = None;
    for tt in tokens {
        let TokenTree::Ident(id) = tt else {
            prev = None;
            continue;
        };
        let word = id.to_string();
        if matches!(
            prev.as_deref(),
            Some("struct" | "enum" | "type" | "trait" | "union" | "as")
        ) && word != "_"
        {
            names.push(word.clone());
        }
        prev = Some(word);
    }
    names
}
