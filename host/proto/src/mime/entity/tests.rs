//! Entity trees read from the shapes IM clients send, and written back.

use super::*;

/// Text and a PNG, as an RCS client sends them (RCC.07 standalone
/// messaging): binary, no transfer encoding.
fn text_and_png() -> (String, Vec<u8>) {
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\r\n--not-the-boundary\r\n";
    let mut body = b"preamble\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n\
--b1\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename*=utf-8''%C3%A4.png\r\n\
Content-ID: <img1@x.test>\r\n\r\n"
        .to_vec();
    body.extend_from_slice(png);
    body.extend_from_slice(b"\r\n--b1--\r\nepilogue");
    ("multipart/mixed; boundary=b1".to_string(), body)
}

fn leaf(entity: &Entity) -> &[u8] {
    match &entity.body {
        Body::Leaf(bytes) => bytes,
        Body::Parts(_) => panic!("not a leaf"),
    }
}

#[test]
fn reads_text_and_an_image_byte_for_byte() {
    let (ct, body) = text_and_png();
    let entity = parse(&ct, &body).unwrap();
    assert_eq!(entity.content_type, "multipart/mixed");
    let leaves = entity.leaves();
    assert_eq!(leaves.len(), 2);
    assert_eq!(leaves[0].content_type, "text/plain; charset=\"utf-8\"");
    assert_eq!(leaf(leaves[0]), "Grüße".as_bytes());
    assert_eq!(leaves[1].media_type(), "image/png");
    assert_eq!(leaves[1].filename.as_deref(), Some("ä.png"));
    assert_eq!(leaves[1].disposition.as_deref(), Some("attachment"));
    assert_eq!(leaves[1].content_id.as_deref(), Some("img1@x.test"));
    assert_eq!(
        leaf(leaves[1]),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\r\n--not-the-boundary\r\n"
    );
}

#[test]
fn reads_nested_alternative_and_related_with_transfer_encodings() {
    let body = b"--outer\r\nContent-Type: multipart/related; type=\"text/html\"; boundary=\"inner\"\r\n\r\n\
--inner\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
<p>caf=C3=A9 <img src=3D\"cid:logo\"></p>\r\n\
--inner\r\nContent-Type: image/gif\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\
Content-Language: en\r\n\r\nR0lGODlh\r\nAQABAA==\r\n--inner--\r\n\
--outer\r\nContent-Type: text/plain\r\n\r\ncafe\r\n--outer--\r\n";
    let entity = parse("multipart/alternative; boundary=outer", body).unwrap();
    let Body::Parts(parts) = &entity.body else {
        panic!("not a multipart")
    };
    assert_eq!(
        parts[0].content_type,
        "multipart/related; type=\"text/html\""
    );
    let leaves = entity.leaves();
    assert_eq!(
        leaf(leaves[0]),
        "<p>café <img src=\"cid:logo\"></p>".as_bytes()
    );
    assert_eq!(leaf(leaves[1]), b"GIF89a\x01\x00\x01\x00");
    assert_eq!(leaves[1].content_id.as_deref(), Some("logo"));
    assert_eq!(leaves[1].language.as_deref(), Some("en"));
    assert_eq!(leaf(leaves[2]), b"cafe");
}

#[test]
fn the_canonical_form_reads_back_as_the_same_tree() {
    let (ct, body) = text_and_png();
    let nested = format!(
        "--n\r\nContent-Type: {ct}\r\n\r\n{}\r\n--n\r\nContent-Type: text/plain\r\n\r\n=_s_=\r\n--n--\r\n",
        String::from_utf8_lossy(&body)
    );
    for (ct, body) in [
        (ct, body),
        (
            "multipart/related; boundary=n".to_string(),
            nested.into_bytes(),
        ),
    ] {
        let entity = parse(&ct, &body).unwrap();
        let mut written = Vec::new();
        let written_type = write(&entity, "s", &mut written).unwrap();
        assert!(
            written_type.starts_with(&entity.content_type),
            "{written_type}"
        );
        assert_eq!(parse(&written_type, &written).unwrap(), entity);
    }
}

#[test]
fn a_boundary_found_in_the_content_is_made_longer() {
    let entity = Entity {
        content_type: "multipart/mixed".into(),
        disposition: None,
        filename: None,
        content_id: None,
        language: None,
        body: Body::Parts(vec![Entity {
            content_type: "text/plain".into(),
            disposition: None,
            filename: None,
            content_id: None,
            language: None,
            body: Body::Leaf(b"--=_s_=\r\n--=_s__=".to_vec()),
        }]),
    };
    let mut out = Vec::new();
    let ct = write(&entity, "s", &mut out).unwrap();
    assert_eq!(ct, "multipart/mixed; boundary=\"=_s___=\"");
    assert_eq!(parse(&ct, &out).unwrap(), entity);
}

#[test]
fn refuses_what_cannot_be_read() {
    let ok = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n";
    assert!(matches!(
        parse("multipart/mixed", ok),
        Err(EntityError::NoBoundary(_))
    ));
    assert!(matches!(
        parse(
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: text/plain\r\n\r\nx"
        ),
        Err(EntityError::Split(_))
    ));
    assert!(matches!(
        parse("multipart/mixed; boundary=b", b"--b--\r\n"),
        Err(EntityError::Empty(_))
    ));
    let x_token = b"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nx\r\n--b--\r\n";
    assert_eq!(
        parse("multipart/mixed; boundary=b", x_token),
        Err(EntityError::Encoding("x-uuencode".into()))
    );
    // Nine levels of multipart.
    let mut body = b"x".to_vec();
    let mut ct = "text/plain".to_string();
    for level in 0..=MAX_DEPTH {
        let mut outer = format!("--l{level}\r\nContent-Type: {ct}\r\n\r\n").into_bytes();
        outer.extend_from_slice(&body);
        outer.extend_from_slice(format!("\r\n--l{level}--\r\n").as_bytes());
        body = outer;
        ct = format!("multipart/mixed; boundary=l{level}");
    }
    assert_eq!(parse(&ct, &body), Err(EntityError::TooDeep));
    let many: String = (0..=MAX_PARTS)
        .map(|_| "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n")
        .collect::<String>()
        + "--b--\r\n";
    assert_eq!(
        parse("multipart/mixed; boundary=b", many.as_bytes()),
        Err(EntityError::TooManyParts)
    );
}

#[test]
fn a_part_without_headers_is_plain_text() {
    let entity = parse(
        "multipart/mixed; boundary=b",
        b"--b\r\n\r\nhello\r\n--b--\r\n",
    )
    .unwrap();
    assert_eq!(entity.leaves()[0].content_type, "text/plain");
    assert_eq!(leaf(entity.leaves()[0]), b"hello");
}
