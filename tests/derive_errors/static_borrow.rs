use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    pub len: u8,
    #[mproto(len = len)]
    pub name: &'static str,
}

fn main() {}
