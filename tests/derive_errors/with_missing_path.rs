use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    #[mproto(with = mproto::ext::hessian2::Hessian3Str)]
    pub name: String,
}

fn main() {}
