//! Names the generated code defines: a schema type must not take one of them.

use crate::diag::{Diagnostic, Diagnostics};
use crate::ir::Schema;

use super::Layout;

/// Reports every name that two items of the generated module would share, such as a
/// struct `ARef` beside the view generated for `A`, or a frame `AbCodec` beside the
/// codec generated for protocol `ab`. Rust would refuse the generated code.
pub fn check_generated_names(schema: &Schema, layout: &Layout, diags: &mut Diagnostics) {
    let tokens = crate::codegen::emit_tokens(schema, layout, &Default::default());
    let Ok(file) = syn::parse2::<syn::File>(tokens) else {
        return;
    };
    let mut seen: Vec<String> = Vec::new();
    for item in &file.items {
        let Some(name) = item_name(item) else {
            continue;
        };
        if !seen.contains(&name) {
            seen.push(name);
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

/// The name a top-level item defines in the type namespace.
fn item_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        syn::Item::Type(t) => Some(t.ident.to_string()),
        syn::Item::Trait(t) => Some(t.ident.to_string()),
        syn::Item::Union(u) => Some(u.ident.to_string()),
        _ => None,
    }
}
