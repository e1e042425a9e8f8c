use mproto::Codec;

#[derive(Codec)]
pub struct Reason<'a> {
    #[mproto(prefix = u8)]
    pub text: &'a str,
}

#[derive(Codec)]
#[mproto(
    protocol = "demo",
    error_reply(req, err) = { id = req.request_id, body = Reason { text: err.message } },
)]
pub struct Message<'a> {
    pub len: u32,
    #[mproto(request_id)]
    pub id: u64,
    #[mproto(len = len)]
    pub body: &'a [u8],
}

fn main() {}
