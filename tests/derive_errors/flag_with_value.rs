use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    #[mproto(varint = true)]
    pub id: u64,
}

fn main() {}
