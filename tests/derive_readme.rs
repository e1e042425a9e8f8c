//! The README's `#[derive(Codec)]` example, as written there.

use mproto::Codec;

#[derive(Codec, Debug, Clone, PartialEq)]
#[mproto(protocol = "ping", request_id = id, property("service") = service)]
pub struct Ping<'a> {
    #[mproto(value = 0xCAFE)]
    pub magic: u16,
    pub id: u64,
    pub service_len: u8,
    #[mproto(len = service_len)]
    pub service: &'a str,
    #[mproto(prefix = u32)]
    pub body: &'a [u8],
}

#[test]
fn the_readme_example_works_as_described() -> Result<(), Box<dyn std::error::Error>> {
    let ping = Ping {
        id: 7,
        service: "echo",
        body: b"hi",
        ..Default::default()
    };
    let bytes = ping.to_bytes()?;
    let back = Ping::decode(&bytes)?;
    assert_eq!(
        (back.magic, back.service_len, back.service, back.body),
        (0xCAFE, 4, "echo", &b"hi"[..])
    );
    let at = back.service.as_ptr() as usize - bytes.as_ptr() as usize;
    assert_eq!(
        at,
        2 + 8 + 1,
        "the text is borrowed from the frame, not copied"
    );
    let md = mproto::Codec::decode(&PingCodec, &bytes)?;
    assert_eq!(md.request_id, Some(7));
    assert_eq!(
        md.properties.get("service").map(|v| v.to_string()),
        Some("echo".into())
    );
    let view = PingRef::decode(&bytes)?;
    assert_eq!(view.id, 7);
    Ok(())
}
