use mproto::Codec;

#[derive(Codec)]
#[mproto(width = u8)]
pub enum Kind {
    Request = 0,
    Response = 1,
}

fn main() {}
