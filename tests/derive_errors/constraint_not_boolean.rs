use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    #[mproto(where = version + 1)]
    pub version: u8,
}

fn main() {}
