//! Public data types reported by the host.

/// Log level of a `proxy_log` call (`proxy_log_level_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Critical,
}

impl LogLevel {
    pub(crate) fn from_abi(v: u32) -> Option<Self> {
        Some(match v {
            0 => Self::Trace,
            1 => Self::Debug,
            2 => Self::Info,
            3 => Self::Warn,
            4 => Self::Error,
            5 => Self::Critical,
            _ => return None,
        })
    }
}

/// What a filter callback returned (`proxy_action_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Let the request go on (`CONTINUE` = 0).
    Continue,
    /// Stop iteration until the filter resumes the stream (`PAUSE` = 1).
    Pause,
}

impl Action {
    pub(crate) fn from_abi(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::Continue),
            1 => Some(Self::Pause),
            _ => None,
        }
    }
}

/// An HTTP request (an HTTP stream context) created by
/// [`Host::request`](crate::Host::request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub(crate) u32);

impl RequestId {
    /// The proxy-wasm context id of the request's stream context.
    pub fn context_id(self) -> u32 {
        self.0
    }
}

/// A response the filter sent with `proxy_send_local_response` instead of
/// letting the request through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalResponse {
    /// HTTP status code.
    pub status: u32,
    /// Response headers, in the order the filter gave them.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
    /// Status code details (Envoy's `%RESPONSE_CODE_DETAILS%`); the Rust SDK
    /// always sends an empty string.
    pub details: String,
    /// gRPC status, or `-1` for a plain HTTP response.
    pub grpc_status: i32,
}

impl LocalResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

/// An outbound HTTP call dispatched by the filter with `proxy_http_call`,
/// waiting for [`Host::respond_http_call`](crate::Host::respond_http_call)
/// or [`Host::fail_http_call`](crate::Host::fail_http_call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCall {
    /// The token the filter got back; pass it to `respond_http_call`.
    pub token: u32,
    /// The upstream (Envoy cluster) name.
    pub upstream: String,
    /// Request headers, including the `:method`, `:path` and `:authority`
    /// pseudo-headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
    /// Request trailers.
    pub trailers: Vec<(String, String)>,
    /// Timeout in milliseconds.
    pub timeout_ms: u32,
    /// The request whose context dispatched the call; `None` if the root
    /// context did (e.g. from `on_tick`).
    pub request: Option<RequestId>,
}

impl HttpCall {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

/// The first value of `name` (case-insensitive) in a header list.
pub(crate) fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
