use mproto::Codec;

#[derive(Codec)]
pub struct Message<'a> {
    pub name_len: u8,
    #[mproto(len = name_len, prefix = u8)]
    pub name: &'a str,
}

fn main() {}
