use mproto::Codec;

#[derive(Codec)]
pub struct Message<T> {
    pub id: u32,
    pub body: T,
}

fn main() {}
