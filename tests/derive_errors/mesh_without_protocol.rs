use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    #[mproto(request_id)]
    pub id: u64,
}

fn main() {}
