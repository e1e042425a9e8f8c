use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    pub count: u16,
    pub ids: Vec<u32>,
}

fn main() {}
