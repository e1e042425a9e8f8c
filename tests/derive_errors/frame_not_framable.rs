use mproto::Codec;

#[derive(Codec)]
#[mproto(protocol = "demo")]
pub struct Message<'a> {
    #[mproto(request_id)]
    pub id: u64,
    #[mproto(to_end)]
    pub body: &'a [u8],
}

fn main() {}
