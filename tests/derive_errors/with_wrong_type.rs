use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    #[mproto(with = mproto::ext::hessian2::Hessian2Str)]
    pub name: u32,
}

fn main() {}
