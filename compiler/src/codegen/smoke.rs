//! Temporary: a hand-built IR to smoke-test the generator before the parser lands.
#![allow(dead_code, missing_docs)]

use crate::diag::{FileId, Span};
use crate::ir::*;

fn sp() -> Span {
    Span::new(FileId(0), 0, 0)
}
fn id(n: &str) -> Ident {
    Ident {
        name: n.into(),
        span: sp(),
    }
}
fn ty(kind: Ty) -> Type {
    Type { kind, span: sp() }
}
fn e(kind: ExprKind, t: ValueTy, text: &str) -> Expr {
    Expr {
        kind,
        ty: t,
        span: sp(),
        text: text.into(),
    }
}
fn int(bits: u8) -> Ty {
    Ty::Int(IntTy {
        bits,
        signed: false,
        endian: None,
    })
}
fn field(name: Option<&str>, t: Ty) -> Field {
    Field {
        name: name.map(id),
        doc: vec![],
        ty: ty(t),
        value: FieldValue::Plain,
        constraint: None,
        condition: None,
        span: sp(),
    }
}
fn fref(i: usize) -> FieldRef {
    FieldRef {
        field: i,
        sub: vec![],
    }
}

pub fn awesome() -> Schema {
    let kind = TypeDef {
        name: id("Kind"),
        doc: vec![],
        kind: TypeKind::Enum(Enum {
            repr: IntTy {
                bits: 3,
                signed: false,
                endian: None,
            },
            variants: ["Request", "Response", "Oneway", "Heartbeat", "Error"]
                .iter()
                .enumerate()
                .map(|(i, n)| Variant {
                    name: id(n),
                    value: i as i128,
                    doc: vec![],
                })
                .collect(),
            unknown: Some(id("Unknown")),
        }),
    };
    let status = TypeDef {
        name: id("Status"),
        doc: vec![],
        kind: TypeKind::Enum(Enum {
            repr: IntTy {
                bits: 8,
                signed: false,
                endian: None,
            },
            variants: [
                "Ok",
                "NotFound",
                "Unavailable",
                "Timeout",
                "OverLimit",
                "BadResponse",
                "Internal",
            ]
            .iter()
            .enumerate()
            .map(|(i, n)| Variant {
                name: id(n),
                value: i as i128,
                doc: vec![],
            })
            .collect(),
            unknown: Some(id("Unknown")),
        }),
    };
    let flags = TypeDef {
        name: id("MessageFlags"),
        doc: vec![],
        kind: TypeKind::Bits(Bits {
            repr: IntTy {
                bits: 8,
                signed: false,
                endian: None,
            },
            fields: vec![
                BitField {
                    name: Some(id("kind")),
                    ty: BitTy::Enum(TypeId(0)),
                    value: None,
                    doc: vec![],
                    span: sp(),
                },
                BitField {
                    name: Some(id("compressed")),
                    ty: BitTy::Bool,
                    value: None,
                    doc: vec![],
                    span: sp(),
                },
                BitField {
                    name: Some(id("streaming")),
                    ty: BitTy::Bool,
                    value: None,
                    doc: vec![],
                    span: sp(),
                },
                BitField {
                    name: None,
                    ty: BitTy::Uint(3),
                    value: Some(0),
                    doc: vec![],
                    span: sp(),
                },
            ],
        }),
    };
    let mut magic = field(Some("magic"), int(16));
    magic.value = FieldValue::Const(e(ExprKind::Int(0xA1B2), ValueTy::Int, "0xA1B2"));
    let mut version = field(Some("version"), int(8));
    version.constraint = Some(e(
        ExprKind::Binary(
            BinOp::Eq,
            Box::new(e(ExprKind::Field(fref(1)), ValueTy::Int, "version")),
            Box::new(e(ExprKind::Int(1), ValueTy::Int, "1")),
        ),
        ValueTy::Bool,
        "version == 1",
    ));
    let mut stream = field(Some("stream_id"), int(32));
    stream.condition = Some(e(
        ExprKind::Field(FieldRef {
            field: 2,
            sub: vec![SubField::Bit(2)],
        }),
        ValueTy::Bool,
        "flags.streaming",
    ));
    let headers = field(
        Some("headers"),
        Ty::KvList {
            key: Box::new(ty(Ty::Bytes {
                text: true,
                len: Len::SizePrefix(Prefix::Int(IntTy {
                    bits: 8,
                    signed: false,
                    endian: None,
                })),
            })),
            value: Box::new(ty(Ty::Bytes {
                text: true,
                len: Len::SizePrefix(Prefix::Int(IntTy {
                    bits: 16,
                    signed: false,
                    endian: None,
                })),
            })),
            len: Len::Size(e(ExprKind::Field(fref(6)), ValueTy::Int, "header_len")),
        },
    );
    let body = field(
        Some("body"),
        Ty::Bytes {
            text: false,
            len: Len::Size(e(ExprKind::Field(fref(7)), ValueTy::Int, "body_len")),
        },
    );
    let msg = TypeDef {
        name: id("Message"),
        doc: vec!["One message.".into()],
        kind: TypeKind::Struct(Struct {
            is_frame: true,
            fields: vec![
                magic,
                version,
                field(Some("flags"), Ty::Named(TypeId(2))),
                field(Some("status"), Ty::Named(TypeId(1))),
                field(Some("request_id"), int(64)),
                stream,
                field(Some("header_len"), int(16)),
                field(Some("body_len"), int(32)),
                headers,
                body,
            ],
        }),
    };
    let kind_of = e(
        ExprKind::Field(FieldRef {
            field: 2,
            sub: vec![SubField::Bit(0)],
        }),
        ValueTy::Enum(TypeId(0)),
        "flags.kind",
    );
    let mt = |n: &'static str| {
        e(
            ExprKind::Builtin(BuiltinVariant::MessageType(n)),
            ValueTy::MessageType,
            n,
        )
    };
    let md = Metadata {
        span: sp(),
        message_type: Some(e(
            ExprKind::Match(
                Box::new(kind_of),
                vec![
                    (vec![Pattern::Variant(TypeId(0), 0)], mt("Request")),
                    (vec![Pattern::Variant(TypeId(0), 1)], mt("Response")),
                    (vec![Pattern::Default], mt("Error")),
                ],
            ),
            ValueTy::MessageType,
            "match",
        )),
        request_id: Some(e(ExprKind::Field(fref(4)), ValueTy::Int, "request_id")),
        stream_id: Some(e(
            ExprKind::Field(fref(5)),
            ValueTy::Optional(Box::new(ValueTy::Int)),
            "stream_id",
        )),
        response_status: None,
        properties: vec![
            Property::Named {
                key: "version".into(),
                value: e(ExprKind::Field(fref(1)), ValueTy::Int, "version"),
                span: sp(),
            },
            Property::List {
                field: fref(8),
                span: sp(),
            },
        ],
        mutate: Some((fref(8), sp())),
    };
    let reply = Reply {
        kind: ReplyKind::Error,
        req: id("req"),
        err: Some(id("err")),
        target: TypeId(3),
        span: sp(),
        assigns: vec![
            Assign {
                target: FieldRef {
                    field: 2,
                    sub: vec![SubField::Bit(0)],
                },
                value: e(
                    ExprKind::Variant(TypeId(0), 1),
                    ValueTy::Enum(TypeId(0)),
                    "Kind::Response",
                ),
                span: sp(),
            },
            Assign {
                target: fref(4),
                value: e(
                    ExprKind::Request(RequestField::RequestId),
                    ValueTy::Int,
                    "req.request_id",
                ),
                span: sp(),
            },
            Assign {
                target: fref(8),
                value: e(
                    ExprKind::KvLit(vec![
                        (
                            e(ExprKind::Str("error".into()), ValueTy::Text, "\"error\""),
                            e(
                                ExprKind::Error(ErrorField::Message),
                                ValueTy::Text,
                                "err.message",
                            ),
                        ),
                        (
                            e(
                                ExprKind::Str("error-kind".into()),
                                ValueTy::Text,
                                "\"error-kind\"",
                            ),
                            e(
                                ExprKind::Coerce(
                                    Coercion::VariantName,
                                    Box::new(e(
                                        ExprKind::Error(ErrorField::Kind),
                                        ValueTy::ErrorKind,
                                        "err.kind",
                                    )),
                                ),
                                ValueTy::Text,
                                "err.kind",
                            ),
                        ),
                    ]),
                    ValueTy::KvList,
                    "[...]",
                ),
                span: sp(),
            },
        ],
    };
    Schema {
        doc: vec![],
        protocol: Some(Protocol {
            name: id("awesomerpc"),
            codec: "aeraki.meta_protocol.codec.awesomerpc".into(),
            endian: Endian::Big,
            max_frame: DEFAULT_MAX_FRAME,
            doc: vec![],
            span: sp(),
        }),
        types: vec![kind, status, flags, msg],
        frame: Some(TypeId(3)),
        metadata: Some(md),
        error_reply: Some(reply),
        heartbeat_reply: None,
    }
}

#[test]
fn smoke() {
    let s = awesome();
    let layout = crate::check::check_layout(&s).unwrap_or_else(|d| panic!("{:?}", d.into_sorted()));
    let code = super::emit_schema(
        &s,
        &layout,
        &super::Options {
            runtime: "::mproto_runtime".into(),
            source_name: "awesome".into(),
        },
    );
    std::fs::write("/tmp/smoke_awesome.rs", code).unwrap();
}

fn fe(i: usize, t: ValueTy, text: &str) -> Expr {
    e(ExprKind::Field(fref(i)), t, text)
}

/// size field plan, pad, str(u32), union, list by count, varint, nul, align, crc32, extern.
pub fn sink() -> Schema {
    let kind = TypeDef {
        name: id("K"),
        doc: vec![],
        kind: TypeKind::Enum(Enum {
            repr: IntTy {
                bits: 8,
                signed: false,
                endian: None,
            },
            variants: ["A", "B", "C"]
                .iter()
                .enumerate()
                .map(|(i, n)| Variant {
                    name: id(n),
                    value: i as i128 + 1,
                    doc: vec![],
                })
                .collect(),
            unknown: None,
        }),
    };
    let point = TypeDef {
        name: id("Point"),
        doc: vec![],
        kind: TypeKind::Struct(Struct {
            is_frame: false,
            fields: vec![
                field(
                    Some("x"),
                    Ty::Int(IntTy {
                        bits: 16,
                        signed: true,
                        endian: Some(Endian::Little),
                    }),
                ),
                field(Some("y"), Ty::Zigzag),
            ],
        }),
    };
    let call = TypeDef {
        name: id("Call"),
        doc: vec![],
        kind: TypeKind::Struct(Struct {
            is_frame: false,
            fields: vec![
                field(
                    Some("method"),
                    Ty::Bytes {
                        text: true,
                        len: Len::Nul,
                    },
                ),
                field(
                    Some("args"),
                    Ty::Bytes {
                        text: false,
                        len: Len::ToEnd,
                    },
                ),
            ],
        }),
    };
    let ext = TypeDef {
        name: id("H"),
        doc: vec![],
        kind: TypeKind::Extern(Extern {
            rust_path: "mproto_runtime::ext::hessian2::Hessian2Str".into(),
        }),
    };
    let mut size = field(Some("size"), int(32));
    size.value = FieldValue::Derived(e(
        ExprKind::Binary(
            BinOp::Sub,
            Box::new(e(
                ExprKind::SizeOf(FieldRange::SelfStruct),
                ValueTy::Int,
                "sizeof(self)",
            )),
            Box::new(e(ExprKind::Int(4), ValueTy::Int, "4")),
        ),
        ValueTy::Int,
        "sizeof(self) - 4",
    ));
    let mut crc = field(
        Some("crc"),
        Ty::Int(IntTy {
            bits: 32,
            signed: false,
            endian: Some(Endian::Little),
        }),
    );
    crc.value = FieldValue::Derived(e(
        ExprKind::Checksum(Checksum::Crc32, FieldRange::Fields { first: 2, last: 6 }),
        ValueTy::Int,
        "crc32(kind..note)",
    ));
    let union = Ty::Union(Union {
        tag: fe(2, ValueTy::Enum(TypeId(0)), "kind"),
        arms: vec![
            Arm {
                patterns: vec![Pattern::Variant(TypeId(0), 0)],
                name: id("Call"),
                ty: ty(Ty::Named(TypeId(2))),
                span: sp(),
            },
            Arm {
                patterns: vec![Pattern::Variant(TypeId(0), 1)],
                name: id("B"),
                ty: ty(Ty::Unit),
                span: sp(),
            },
            Arm {
                patterns: vec![Pattern::Default],
                name: id("Other"),
                ty: ty(Ty::Bytes {
                    text: false,
                    len: Len::ToEnd,
                }),
                span: sp(),
            },
        ],
    });
    let mut body_len = field(Some("body_len"), Ty::Varint);
    body_len.doc = vec!["Length of body.".into()];
    let fields = vec![
        size,
        field(None, Ty::Pad(1)),
        field(Some("kind"), Ty::Named(TypeId(0))),
        field(Some("n"), int(8)),
        field(
            Some("points"),
            Ty::List {
                elem: Box::new(ty(Ty::Named(TypeId(1)))),
                len: Len::Count(fe(3, ValueTy::Int, "n")),
            },
        ),
        field(
            Some("name"),
            Ty::Bytes {
                text: true,
                len: Len::SizePrefix(Prefix::Int(IntTy {
                    bits: 32,
                    signed: false,
                    endian: None,
                })),
            },
        ),
        field(Some("note"), Ty::Named(TypeId(3))),
        field(None, Ty::Align(4)),
        crc,
        body_len,
        field(Some("body"), union),
    ];
    // body_len is unused as a length here: keep the union last and sized by the frame.
    let mut fields = fields;
    fields[9] = field(Some("tail"), Ty::Varint);
    let msg = TypeDef {
        name: id("Frame"),
        doc: vec![],
        kind: TypeKind::Struct(Struct {
            is_frame: true,
            fields,
        }),
    };
    Schema {
        doc: vec![],
        protocol: Some(Protocol {
            name: id("sink"),
            codec: "sink".into(),
            endian: Endian::Big,
            max_frame: 1 << 20,
            doc: vec![],
            span: sp(),
        }),
        types: vec![kind, point, call, ext, msg],
        frame: Some(TypeId(4)),
        metadata: Some(Metadata {
            span: sp(),
            message_type: None,
            request_id: Some(fe(3, ValueTy::Int, "n")),
            stream_id: None,
            response_status: None,
            properties: vec![
                Property::Named {
                    key: "name".into(),
                    value: fe(5, ValueTy::Text, "name"),
                    span: sp(),
                },
                Property::Named {
                    key: "kind".into(),
                    value: fe(2, ValueTy::Enum(TypeId(0)), "kind"),
                    span: sp(),
                },
            ],
            mutate: None,
        }),
        error_reply: Some(Reply {
            kind: ReplyKind::Error,
            req: id("req"),
            err: Some(id("err")),
            target: TypeId(4),
            span: sp(),
            assigns: vec![
                Assign {
                    target: fref(6),
                    value: e(
                        ExprKind::Error(ErrorField::Message),
                        ValueTy::Text,
                        "err.message",
                    ),
                    span: sp(),
                },
                Assign {
                    target: fref(10),
                    value: e(
                        ExprKind::Coerce(
                            Coercion::ToArm(0),
                            Box::new(e(
                                ExprKind::StructLit(
                                    TypeId(2),
                                    vec![(
                                        0,
                                        e(
                                            ExprKind::Coerce(
                                                Coercion::VariantName,
                                                Box::new(e(
                                                    ExprKind::Error(ErrorField::Kind),
                                                    ValueTy::ErrorKind,
                                                    "err.kind",
                                                )),
                                            ),
                                            ValueTy::Text,
                                            "err.kind",
                                        ),
                                    )],
                                ),
                                ValueTy::Struct(TypeId(2)),
                                "Call {..}",
                            )),
                        ),
                        ValueTy::Unit,
                        "Call{}",
                    ),
                    span: sp(),
                },
                Assign {
                    target: fref(2),
                    value: e(
                        ExprKind::Variant(TypeId(0), 0),
                        ValueTy::Enum(TypeId(0)),
                        "K::A",
                    ),
                    span: sp(),
                },
            ],
        }),
        heartbeat_reply: None,
    }
}

#[test]
fn smoke_sink() {
    let s = sink();
    let layout = crate::check::check_layout(&s).unwrap_or_else(|d| panic!("{:?}", d.into_sorted()));
    assert!(
        matches!(
            layout.frame,
            Some(crate::check::FramePlan::SizeField {
                field: 0,
                from: None,
                add: -4
            })
        ),
        "{:?}",
        layout.frame
    );
    let code = super::emit_schema(
        &s,
        &layout,
        &super::Options {
            runtime: "::mproto_runtime".into(),
            source_name: "sink".into(),
        },
    );
    std::fs::write("/tmp/smoke_sink.rs", code).unwrap();
}
