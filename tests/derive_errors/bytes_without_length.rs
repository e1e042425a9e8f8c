use mproto::Codec;

#[derive(Codec)]
pub struct Message<'a> {
    pub body: &'a [u8],
}

fn main() {}
