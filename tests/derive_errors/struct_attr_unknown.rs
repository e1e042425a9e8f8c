use mproto::Codec;

#[derive(Codec)]
#[mproto(protocl = "demo")]
pub struct Message {
    pub id: u32,
}

fn main() {}
