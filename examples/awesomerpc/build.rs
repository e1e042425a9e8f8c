//! Generates the AwesomeRPC codec into `OUT_DIR` at build time.

fn main() -> Result<(), mproto_compiler::build::Error> {
    mproto_compiler::Config::new().compile(&["../../schemas/awesomerpc.mproto"])
}
