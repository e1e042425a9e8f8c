use std::collections::HashMap;

use mproto::Codec;

#[derive(Codec)]
pub struct Message {
    pub headers: HashMap<String, String>,
}

fn main() {}
