use mproto::Codec;

#[derive(Codec)]
pub enum Payload {
    #[mproto(tag = 0)]
    Ping(u32),
    #[mproto(tag = 1)]
    Pong(u64),
}

#[derive(Codec)]
pub struct Message {
    pub kind: u8,
    pub payload: Payload,
}

fn main() {}
