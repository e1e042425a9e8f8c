//! Frame-level items: constants, `frame_len`, metadata, mutation, replies and
//! the `Codec` implementation the proxy calls.

use proc_macro2::TokenStream;
use quote::quote;

use super::Gen;
use super::names::{codec_type_name, docs, ident};

impl Gen<'_> {
    /// Constants, framing, metadata, replies and the codec type for the frame.
    pub(super) fn emit_frame(&self) -> TokenStream {
        let (Some(id), Some(proto)) = (self.schema.frame, &self.schema.protocol) else {
            return quote!();
        };
        let Some(s) = self.schema.as_struct(id) else {
            return quote!();
        };
        let name = &proto.name.name;
        let codec = &proto.codec;
        let max = proc_macro2::Literal::usize_unsuffixed(
            usize::try_from(proto.max_frame).unwrap_or(usize::MAX),
        );
        let codec_ty = ident(&codec_type_name(name));
        let message = self.owned_name(id);
        let frame_len = self.emit_frame_len(id, s);
        let metadata = self.emit_metadata(id, s);
        let peek = self.emit_peek(id, s);
        let mutate = self.emit_mutate(id, s);
        let error_reply = self.emit_reply(id, self.schema.error_reply.as_ref(), true);
        let heartbeat_reply = self.emit_reply(id, self.schema.heartbeat_reply.as_ref(), false);
        let mut codec_doc = proto.doc.clone();
        if codec_doc.is_empty() {
            codec_doc.push(format!("The `{name}` codec."));
        }
        let codec_doc = docs(&codec_doc);
        let error_call = if self.schema.error_reply.is_some() {
            quote!(error_reply(request, error)?.encode(out))
        } else {
            quote!({
                let _ = (request, error, out);
                ::core::result::Result::Err(__mp::EncodeError::new(
                    __mp::EncodeErrorKind::Unsupported("error replies"),
                ))
            })
        };
        let heartbeat_call = if self.schema.heartbeat_reply.is_some() {
            quote!(heartbeat_reply(request)?.encode(out))
        } else {
            quote!({
                let _ = (request, out);
                ::core::result::Result::Err(__mp::EncodeError::new(
                    __mp::EncodeErrorKind::Unsupported("heartbeat replies"),
                ))
            })
        };
        let consts = quote! {
            /// The protocol's name, as in an `ApplicationProtocol`'s `spec.protocol`.
            pub const PROTOCOL: &str = #name;
            /// The codec's name, as in an `ApplicationProtocol`'s `spec.codec`.
            pub const CODEC_NAME: &str = #codec;
            /// The largest frame accepted, in bytes.
            pub const MAX_FRAME: usize = #max;

            #frame_len
            #metadata
            #peek
            #mutate
            #error_reply
            #heartbeat_reply
        };
        let decl = quote! {
            #codec_doc
            #[derive(Debug, Clone, Copy, Default)]
            pub struct #codec_ty;
        };
        let codec_impl = quote! {
            impl __mp::Codec for #codec_ty {
                fn protocol(&self) -> &'static str { PROTOCOL }
                fn codec_name(&self) -> &'static str { CODEC_NAME }
                fn max_frame_len(&self) -> usize { MAX_FRAME }
                #[inline]
                fn frame_len(&self, buf: &[u8]) -> ::core::result::Result<__mp::FrameLen, __mp::DecodeError> {
                    frame_len(buf)
                }
                #[inline]
                fn decode(&self, frame: &__mp::Bytes) -> ::core::result::Result<__mp::Metadata, __mp::DecodeError> {
                    decode_metadata(frame)
                }
                #[inline]
                fn peek_request_id(&self, frame: &[u8]) -> ::core::option::Option<u64> {
                    peek_request_id(frame)
                }
                #[inline]
                fn encode(&self, frame: &__mp::Bytes, mutation: &__mp::Mutation, out: &mut __mp::Encoded) -> ::core::result::Result<(), __mp::EncodeError> {
                    encode_mutated(frame, mutation, out)
                }
                fn error_reply(&self, request: &__mp::Metadata, error: &__mp::ReplyError, out: &mut __mp::Encoded) -> ::core::result::Result<(), __mp::EncodeError> {
                    #error_call
                }
                fn heartbeat_reply(&self, request: &__mp::Metadata, out: &mut __mp::Encoded) -> ::core::result::Result<(), __mp::EncodeError> {
                    #heartbeat_call
                }
            }

        };
        // A frame that borrows its input cannot come out of a streaming decoder.
        let borrows = self.schema.ty(id).rust.as_ref().is_some_and(|r| r.lifetime);
        let tokio = if borrows {
            quote!()
        } else {
            quote!(__mp::__impl_tokio_codec!(#codec_ty, #message);)
        };
        if self.derived(id) {
            // In the user's module only the codec type is new; the functions behind it
            // stay private so two derived frames can share a module.
            quote! {
                #decl
                const _: () = {
                    #[allow(unused_imports)]
                    use __mp::Sink as _;
                    #consts #codec_impl #tokio
                };
            }
        } else {
            quote!(#consts #decl #codec_impl #tokio)
        }
    }
}
