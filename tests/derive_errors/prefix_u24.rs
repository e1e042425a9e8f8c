use mproto::Codec;

#[derive(Codec)]
pub struct Message<'a> {
    #[mproto(prefix = u24)]
    pub body: &'a [u8],
}

fn main() {}
