//! The codecs generated from the schemas that ship with mproto, compiled at build
//! time from `schemas/*.mproto`, and a registry of all of them for the proxy.

use std::sync::Arc;

use mproto_runtime::Registry;

/// AwesomeRPC, the project's demo protocol (`schemas/awesomerpc.mproto`).
pub mod awesomerpc {
    include!(concat!(env!("OUT_DIR"), "/awesomerpc.rs"));
}

/// Apache Dubbo's 16-byte header with the body as bytes (`schemas/dubbo.mproto`).
pub mod dubbo {
    include!(concat!(env!("OUT_DIR"), "/dubbo.rs"));
}

/// Apache Thrift, framed transport and strict binary protocol (`schemas/thrift.mproto`).
pub mod thrift {
    include!(concat!(env!("OUT_DIR"), "/thrift.rs"));
}

/// A registry holding every shipped codec under its codec name.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(Arc::new(awesomerpc::AwesomerpcCodec));
    registry.register(Arc::new(dubbo::DubboCodec));
    registry.register(Arc::new(thrift::ThriftCodec));
    registry
}
