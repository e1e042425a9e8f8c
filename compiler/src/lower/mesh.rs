//! The protocol block, metadata and replies: what the mesh needs from a schema.

use pest::iterators::Pair;

use super::exprs::{ExprCx, FieldInfo, int_value, string_value, ty_name};
use super::{Lowerer, ParsedFile, inner};
use crate::diag::Diagnostic;
use crate::ir::{
    DEFAULT_MAX_FRAME, Endian, Expr, ExprKind, FieldRef, Metadata, Property, Protocol, Ty, TypeId,
    TypeKind, ValueTy,
};
use crate::syntax::{Rule, docs_above, span_of};

/// Metadata entries other than `property`.
const MD_ENTRIES: [&str; 6] = [
    "message_type",
    "request_id",
    "stream_id",
    "response_status",
    "properties",
    "mutate",
];

impl Lowerer {
    pub(super) fn not_in_import(
        &mut self,
        f: &ParsedFile<'_>,
        def: &Pair<'_, Rule>,
        what: &str,
    ) -> bool {
        if f.root {
            return true;
        }
        self.diags.push(
            Diagnostic::error("E0205", format!("an imported file cannot declare {what}"))
                .primary(span_of(def, f.file), "declared in an imported file")
                .help("imported files hold types only; move this to the importing schema"),
        );
        false
    }

    pub(super) fn lower_protocol(&mut self, f: &ParsedFile<'_>, def: &Pair<'_, Rule>) {
        if !self.not_in_import(f, def, "a protocol") {
            return;
        }
        let parts = inner(def);
        let name = Self::ident(&parts[0], f.file);
        let span = span_of(def, f.file);
        if let Some(prev) = &self.schema.protocol {
            let ps = prev.span;
            self.diags.push(
                Diagnostic::error("E0205", "a schema has only one protocol")
                    .primary(span, "second protocol")
                    .secondary(ps, "first protocol"),
            );
            return;
        }
        self.check_protocol_name(&name);
        let mut p = Protocol {
            codec: format!("aeraki.meta_protocol.codec.{}", name.name),
            name,
            endian: Endian::Big,
            max_frame: DEFAULT_MAX_FRAME,
            doc: docs_above(f.text, def.as_span().start()),
            span,
        };
        for s in &parts[1..] {
            let Some(setting) = inner(s).into_iter().next() else {
                continue;
            };
            let v = inner(&setting);
            match setting.as_rule() {
                Rule::codec_setting => p.codec = string_value(&v[0]).unwrap_or_default(),
                Rule::endian_setting => {
                    p.endian = if v[0].as_str() == "little" {
                        Endian::Little
                    } else {
                        Endian::Big
                    }
                }
                _ => p.max_frame = self.max_frame(f, &v),
            }
        }
        self.schema.protocol = Some(p);
    }

    pub(super) fn max_frame(&mut self, f: &ParsedFile<'_>, v: &[Pair<'_, Rule>]) -> u64 {
        let n = int_value(&v[0])
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        let unit = match v.get(1).map(|u| u.as_str()) {
            Some("KiB") => 1u64 << 10,
            Some("MiB") => 1 << 20,
            Some("GiB") => 1 << 30,
            _ => 1,
        };
        match n.checked_mul(unit) {
            Some(m) if m > 0 => m,
            _ => {
                let span = span_of(&v[0], f.file);
                self.diags.push(
                    Diagnostic::error("E0101", "invalid `max_frame`")
                        .primary(span, "must be a positive size that fits in 64 bits"),
                );
                DEFAULT_MAX_FRAME
            }
        }
    }

    /// Aeraki reads the protocol from the third `-`-separated part of a port name
    /// such as `tcp-metaprotocol-<protocol>-<suffix>`, and port names are DNS labels.
    pub(super) fn check_protocol_name(&mut self, name: &crate::ir::Ident) {
        let n = &name.name;
        let valid = n.len() <= 44
            && n.starts_with(|c: char| c.is_ascii_lowercase())
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if valid {
            return;
        }
        let fixed: String = n
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let fixed = fixed
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .chars()
            .take(44)
            .collect::<String>();
        let why = if n.len() > 44 {
            format!(
                "{} characters; at most 44 fit in a 63-character port name",
                n.len()
            )
        } else {
            "only lowercase letters and digits, starting with a letter".to_string()
        };
        let mut d = Diagnostic::error("E0501", format!("the protocol name `{n}` cannot be used in a Kubernetes port name"))
            .primary(name.span, why)
            .note("Aeraki reads the protocol from the port name `tcp-metaprotocol-<protocol>-<suffix>`, so it cannot contain `-`");
        if !fixed.is_empty() {
            d = d.help(format!("use `{fixed}`"));
        }
        self.diags.push(d);
    }

    /// The frame named by a `metadata` or `reply` block.
    pub(super) fn frame_named(
        &mut self,
        f: &ParsedFile<'_>,
        p: &Pair<'_, Rule>,
        code: &'static str,
    ) -> Option<TypeId> {
        let name = p.as_str();
        let span = span_of(p, f.file);
        match (self.schema.frame, self.names.get(name).copied()) {
            (Some(frame), Some(id)) if frame == id => Some(id),
            (None, _) => {
                self.diags.push(
                    Diagnostic::error("E0502", "there is no frame")
                        .primary(span, "this refers to the frame")
                        .help("declare the message layout with `frame Name { … }`"),
                );
                None
            }
            (Some(frame), _) => {
                let fname = self.schema.ty(frame).name.name.clone();
                self.diags.push(
                    Diagnostic::error(code, format!("`{name}` is not the frame"))
                        .primary(span, format!("expected `{fname}`"))
                        .help(format!("write `{fname}`")),
                );
                None
            }
        }
    }

    pub(super) fn lower_metadata(&mut self, f: &ParsedFile<'_>, def: &Pair<'_, Rule>) {
        if !self.not_in_import(f, def, "metadata") {
            return;
        }
        let parts = inner(def);
        let span = span_of(def, f.file);
        let Some(frame) = self.frame_named(f, &parts[0], "E0503") else {
            return;
        };
        if let Some(prev) = &self.schema.metadata {
            let ps = prev.span;
            self.diags.push(
                Diagnostic::error("E0503", "a schema has one `metadata` block")
                    .primary(span, "second block")
                    .secondary(ps, "first block"),
            );
            return;
        }
        let infos = self.frame_infos(frame);
        let cx = ExprCx::fields(f.file, &infos, infos.len());
        let mut md = Metadata {
            span,
            message_type: None,
            request_id: None,
            stream_id: None,
            response_status: None,
            properties: vec![],
            mutate: None,
        };
        for entry in &parts[1..] {
            let Some(e) = inner(entry).into_iter().next() else {
                continue;
            };
            let ps = inner(&e);
            let espan = span_of(&e, f.file);
            if e.as_rule() == Rule::md_property {
                let key = string_value(&ps[0]).unwrap_or_default();
                let value = self.lower_expr(&ps[1], &cx);
                self.check_property_value(&value);
                self.check_md_reads(frame, &value, false);
                md.properties.push(Property::Named {
                    key,
                    value,
                    span: espan,
                });
                continue;
            }
            let which = ps[0].as_str();
            match which {
                "message_type" => {
                    md.message_type = Some(self.md_entry(&ps[1], &cx, ValueTy::MessageType, frame))
                }
                "request_id" => {
                    md.request_id = Some(self.md_entry(&ps[1], &cx, ValueTy::Int, frame));
                }
                "stream_id" => md.stream_id = Some(self.md_entry(&ps[1], &cx, ValueTy::Int, frame)),
                "response_status" => {
                    md.response_status =
                        Some(self.md_entry(&ps[1], &cx, ValueTy::ResponseStatus, frame))
                }
                "properties" => {
                    if let Some(r) = self.kv_field(f, &ps[1], &cx, false) {
                        md.properties.push(Property::List {
                            field: r,
                            span: espan,
                        });
                    }
                }
                "mutate" => md.mutate = self.kv_field(f, &ps[1], &cx, true).map(|r| (r, espan)),
                _ => self.unknown(
                    "metadata entry",
                    which,
                    span_of(&ps[0], f.file),
                    &MD_ENTRIES,
                ),
            }
        }
        self.schema.metadata = Some(md);
    }

    pub(super) fn frame_infos(&self, frame: TypeId) -> Vec<FieldInfo> {
        match &self.schema.ty(frame).kind {
            TypeKind::Struct(s) => self.field_infos(&s.fields),
            _ => vec![],
        }
    }

    /// Metadata is read from a decoded view, which has no byte positions for `sizeof`
    /// or a checksum; and an id (`is_id`) that reads no field but constants is the
    /// same in every frame, so the proxy could neither match responses by it nor
    /// rewrite it.
    fn check_md_reads(&mut self, frame: TypeId, e: &Expr, is_id: bool) {
        let mut positional = None;
        crate::ir::visit::ranges(e, &mut |_, _| positional = Some(e.span));
        if let Some(span) = positional {
            self.diags.push(
                Diagnostic::error("E0503", "`sizeof` and checksums cannot be used in metadata")
                    .primary(span, "metadata is read from the decoded fields")
                    .help("route on a field of the frame instead"),
            );
        }
        let TypeKind::Struct(s) = &self.schema.ty(frame).kind else {
            return;
        };
        let varies = crate::ir::visit::fields_read(e).into_iter().any(|i| {
            s.fields
                .get(i)
                .is_some_and(|f| !matches!(f.value, crate::ir::FieldValue::Const(_)))
        });
        if is_id && !varies && positional.is_none() {
            self.diags.push(
                Diagnostic::error("E0503", "an id must come from a field that varies")
                    .primary(e.span, "this is the same in every frame")
                    .help("read the id from a field that is not a constant"),
            );
        }
    }

    /// A metadata entry of type `want`, checked as [`Self::check_md_reads`] says (as
    /// an id when it is an integer).
    fn md_entry(
        &mut self,
        p: &Pair<'_, Rule>,
        cx: &ExprCx<'_>,
        want: ValueTy,
        frame: TypeId,
    ) -> Expr {
        let is_id = want == ValueTy::Int;
        let e = self.md_expr(p, cx, want);
        self.check_md_reads(frame, &e, is_id);
        e
    }

    pub(super) fn md_expr(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>, want: ValueTy) -> Expr {
        let e = self.lower_expr(p, cx);
        let t = match &e.ty {
            ValueTy::Optional(t) if want == ValueTy::Int => t.as_ref().clone(),
            t => t.clone(),
        };
        if t != want && t != ValueTy::Unit {
            self.diags.push(
                Diagnostic::error("E0503", "this metadata entry has the wrong type").primary(
                    e.span,
                    format!("expected {}, found {}", ty_name(&want), ty_name(&e.ty)),
                ),
            );
        }
        e
    }

    pub(super) fn check_property_value(&mut self, e: &Expr) {
        let t = match &e.ty {
            ValueTy::Optional(t) => t.as_ref(),
            t => t,
        };
        let ok = matches!(
            t,
            ValueTy::Text
                | ValueTy::Bytes
                | ValueTy::Int
                | ValueTy::Bool
                | ValueTy::Enum(_)
                | ValueTy::MessageType
                | ValueTy::ResponseStatus
                | ValueTy::Unit
        );
        if !ok {
            self.diags.push(
                Diagnostic::error(
                    "E0503",
                    "a property must be text, bytes, an integer, a bool or an enum",
                )
                .primary(e.span, format!("this is {}", ty_name(&e.ty))),
            );
        }
    }

    /// A key/value list field for `properties =` or `mutate =`.
    pub(super) fn kv_field(
        &mut self,
        f: &ParsedFile<'_>,
        p: &Pair<'_, Rule>,
        cx: &ExprCx<'_>,
        text_only: bool,
    ) -> Option<FieldRef> {
        let e = self.lower_expr(p, cx);
        let ExprKind::Field(r) = &e.kind else {
            if e.ty != ValueTy::Unit {
                self.diags.push(
                    Diagnostic::error("E0306", "expected a key/value list field")
                        .primary(e.span, "not a field"),
                );
            }
            return None;
        };
        let info = &cx.fields[r.field];
        let ok = match &info.ty.kind {
            Ty::KvList { key, value, .. } if r.sub.is_empty() => {
                !text_only
                    || (matches!(key.kind, Ty::Bytes { text: true, .. })
                        && matches!(value.kind, Ty::Bytes { text: true, .. }))
            }
            _ => false,
        };
        if !ok {
            let what = if text_only {
                "a `str => str` key/value list"
            } else {
                "a key/value list"
            };
            let _ = f;
            self.diags.push(
                Diagnostic::error("E0306", format!("expected {what}"))
                    .primary(e.span, format!("this is {}", ty_name(&e.ty)))
                    .help(if text_only {
                        "mutations write text headers: use a field like `[str(u8) => str(u16); …]`"
                    } else {
                        "use a field like `headers: [str(u8) => str(u16); size header_len]`"
                    }),
            );
            return None;
        }
        Some(r.clone())
    }
}
