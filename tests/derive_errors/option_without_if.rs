use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    pub has_id: bool,
    pub id: Option<u32>,
}

fn main() {}
