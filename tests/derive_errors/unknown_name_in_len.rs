use mproto::Codec;

#[derive(Codec)]
pub struct Message<'a> {
    pub body_len: u32,
    #[mproto(len = bdy_len)]
    pub body: &'a [u8],
}

fn main() {}
