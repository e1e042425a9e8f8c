use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    pub has_id: bool,
    #[mproto(if = has_id)]
    pub id: u32,
}

fn main() {}
