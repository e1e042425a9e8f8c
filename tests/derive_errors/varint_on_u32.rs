use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    #[mproto(varint)]
    pub id: u32,
}

fn main() {}
