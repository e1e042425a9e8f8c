use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    pub id: u32,
    pub reserved: (),
}

fn main() {}
