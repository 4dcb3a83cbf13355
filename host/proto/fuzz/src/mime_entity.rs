//! `interwork_proto::mime::entity::parse` on arbitrary bytes: the first
//! line is the content's `Content-Type`, the rest its body (an IM's
//! multipart content, RFC 2046).
//!
//! Checks: no panic; a tree that parses is within `MAX_DEPTH` and
//! `MAX_PARTS`, and every multipart holds a part; written in the canonical
//! form and parsed again a multipart is the same tree (the form plugins see and the
//! mail writer reads must lose nothing).

use interwork_proto::mime::entity::{self, Body, Entity, MAX_DEPTH, MAX_PARTS};

/// One fuzz input.
pub fn run(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let Ok(content_type) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let body = data.get(split + 1..).unwrap_or_default();
    let Ok(tree) = entity::parse(content_type.trim_end_matches('\r'), body) else {
        return;
    };
    assert!(depth(&tree) <= MAX_DEPTH + 1, "nested too deep");
    assert!(tree.leaves().len() <= MAX_PARTS, "too many parts");
    // The canonical form is a multipart body: a single leaf's name and
    // disposition live in the headers of the request that carries it.
    if matches!(tree.body, Body::Leaf(_)) {
        return;
    }
    let mut written = Vec::new();
    let Ok(written_type) = entity::write(&tree, "fuzz", &mut written) else {
        return;
    };
    let again = entity::parse(&written_type, &written).expect("the canonical form parses");
    assert_eq!(again, tree, "the canonical form read back differs");
}

fn depth(entity: &Entity) -> usize {
    match &entity.body {
        Body::Leaf(_) => 1,
        Body::Parts(parts) => {
            assert!(!parts.is_empty(), "a multipart without parts");
            1 + parts.iter().map(depth).max().unwrap_or(0)
        }
    }
}
