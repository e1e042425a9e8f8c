//! Compiles every schema in `schemas/` with the compiler's build API.

fn main() -> Result<(), mproto_compiler::build::Error> {
    mproto_compiler::Config::new()
        .runtime_path("::mproto_runtime")
        .compile(&[
            "../schemas/awesomerpc.mproto",
            "../schemas/dubbo.mproto",
            "../schemas/thrift.mproto",
        ])
}
