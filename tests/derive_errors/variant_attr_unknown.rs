use mproto::Codec;

#[derive(Codec)]
#[repr(u8)]
pub enum Kind {
    Request = 0,
    #[mproto(unknwon)]
    Unknown(u8),
}

fn main() {}
