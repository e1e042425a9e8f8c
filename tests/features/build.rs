//! Compiles the feature schemas used by this crate's tests.

fn main() -> Result<(), mproto_compiler::build::Error> {
    mproto_compiler::Config::new()
        .runtime_path("::mproto_runtime")
        .compile(&[
            "schemas/features.mproto",
            "schemas/ping.mproto",
            "schemas/edges.mproto",
            "schemas/constants.mproto",
            "schemas/negative.mproto",
            "schemas/walked.mproto",
            "schemas/replies.mproto",
        ])
}
