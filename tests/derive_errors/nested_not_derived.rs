use mproto::Codec;

pub struct Header {
    pub id: u32,
}

#[derive(Codec)]
pub struct Message {
    pub header: Header,
}

fn main() {}
