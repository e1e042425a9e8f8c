use mproto::Codec;

#[derive(Codec)]
pub enum Payload {
    #[mproto(tag = 0)]
    Ping(u32),
    Pong(u64),
}

fn main() {}
