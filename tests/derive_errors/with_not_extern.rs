use mproto::Codec;

pub struct Plain;

#[derive(Codec)]
pub struct Message {
    #[mproto(with = Plain)]
    pub name: String,
}

fn main() {}
