use mproto::Codec;

#[derive(Codec)]
pub enum Kind {
    Request = 0,
    Response = 1,
}

fn main() {}
