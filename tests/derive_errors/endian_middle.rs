use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    #[mproto(endian = "middle")]
    pub id: u32,
}

fn main() {}
