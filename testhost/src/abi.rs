//! Constants and serialization formats of the proxy-wasm ABI v0.2.1.

/// `proxy_status_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Status {
    Ok = 0,
    NotFound = 1,
    BadArgument = 2,
    InvalidMemoryAccess = 6,
    Empty = 7,
    CasMismatch = 8,
    InternalFailure = 10,
    Unimplemented = 12,
}

/// `proxy_buffer_type_t`.
pub(crate) mod buffer {
    pub const HTTP_REQUEST_BODY: u32 = 0;
    pub const HTTP_RESPONSE_BODY: u32 = 1;
    pub const DOWNSTREAM_DATA: u32 = 2;
    pub const UPSTREAM_DATA: u32 = 3;
    pub const HTTP_CALL_RESPONSE_BODY: u32 = 4;
    pub const GRPC_CALL_MESSAGE: u32 = 5;
    pub const VM_CONFIGURATION: u32 = 6;
    pub const PLUGIN_CONFIGURATION: u32 = 7;
    pub const FOREIGN_FUNCTION_ARGUMENTS: u32 = 8;
}

/// `proxy_map_type_t`.
pub(crate) mod map {
    pub const HTTP_REQUEST_HEADERS: u32 = 0;
    pub const HTTP_REQUEST_TRAILERS: u32 = 1;
    pub const HTTP_RESPONSE_HEADERS: u32 = 2;
    pub const HTTP_RESPONSE_TRAILERS: u32 = 3;
    pub const GRPC_CALL_INITIAL_METADATA: u32 = 4;
    pub const GRPC_CALL_TRAILING_METADATA: u32 = 5;
    pub const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
    pub const HTTP_CALL_RESPONSE_TRAILERS: u32 = 7;
}

/// `proxy_stream_type_t`.
pub(crate) mod stream {
    pub const HTTP_REQUEST: u32 = 0;
    pub const HTTP_RESPONSE: u32 = 1;
    pub const DOWNSTREAM: u32 = 2;
    pub const UPSTREAM: u32 = 3;
}

/// `wasi_errno_t` values used by the WASI subset of the ABI.
pub(crate) mod errno {
    pub const SUCCESS: u32 = 0;
    pub const BADF: u32 = 8;
    pub const FAULT: u32 = 21;
    pub const INVAL: u32 = 28;
    pub const NOTSUP: u32 = 58;
}

/// A header map: ordered (name, value) pairs, duplicates allowed.
pub(crate) type Pairs = Vec<(String, String)>;

/// Serializes a map as the ABI's "Maps with HTTP fields" format.
pub(crate) fn serialize_map(pairs: &[(String, String)]) -> Vec<u8> {
    let mut size = 4;
    for (k, v) in pairs {
        size += 8 + k.len() + v.len() + 2;
    }
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

/// Parses a serialized map. An empty buffer or a single `0x00` byte is an
/// empty map. Returns `None` if the buffer is malformed. Non-UTF-8 bytes are
/// replaced (headers are kept as strings in this host).
pub(crate) fn deserialize_map(bytes: &[u8]) -> Option<Pairs> {
    if bytes.is_empty() || bytes == [0] {
        return Some(Vec::new());
    }
    let word = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let count = word(0)?;
    let mut data = count.checked_mul(8)?.checked_add(4)?;
    if data > bytes.len() {
        return None;
    }
    let mut pairs = Vec::with_capacity(count);
    let mut take = |len: usize| -> Option<String> {
        let end = data.checked_add(len)?;
        let s = bytes.get(data..end)?;
        // Each string is followed by a NUL separator.
        if *bytes.get(end)? != 0 {
            return None;
        }
        data = end + 1;
        Some(String::from_utf8_lossy(s).into_owned())
    };
    for i in 0..count {
        let key_len = word(4 + i * 8)?;
        let value_len = word(8 + i * 8)?;
        let key = take(key_len)?;
        let value = take(value_len)?;
        pairs.push((key, value));
    }
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_roundtrip() {
        let pairs = vec![
            (":method".to_string(), "GET".to_string()),
            ("a".to_string(), String::new()),
            ("b".to_string(), "22".to_string()),
        ];
        let bytes = serialize_map(&pairs);
        assert_eq!(deserialize_map(&bytes), Some(pairs));
    }

    #[test]
    fn map_empty_forms() {
        assert_eq!(deserialize_map(&[]), Some(vec![]));
        assert_eq!(deserialize_map(&[0]), Some(vec![]));
        assert_eq!(deserialize_map(&[0, 0, 0, 0]), Some(vec![]));
    }

    #[test]
    fn map_malformed() {
        // Count says 1 pair but no sizes follow.
        assert_eq!(deserialize_map(&[1, 0, 0, 0]), None);
        // Huge count must not overflow or allocate.
        assert_eq!(deserialize_map(&[0xff, 0xff, 0xff, 0xff]), None);
        // Sizes point past the end.
        let mut bytes = serialize_map(&[("k".to_string(), "v".to_string())]);
        bytes[4] = 200;
        assert_eq!(deserialize_map(&bytes), None);
        // Missing NUL separator.
        let mut bytes = serialize_map(&[("k".to_string(), "v".to_string())]);
        let n = bytes.len();
        bytes[n - 1] = b'x';
        assert_eq!(deserialize_map(&bytes), None);
    }
}
