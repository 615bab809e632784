//! Per-VM host state, kept in the wasmtime `Store`.

use std::collections::{BTreeMap, HashMap};

use crate::abi::{self, Pairs, Status};
use crate::shared::SharedData;
use crate::types::{Action, HttpCall, LocalResponse, LogLevel};

/// Lifecycle of a context (root or HTTP stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Active,
    /// `proxy_on_done` returned false; waiting for `proxy_done`.
    AwaitingDone,
    /// The filter called `proxy_done`; `proxy_on_log`/`proxy_on_delete` are due.
    DoneRequested,
    Deleted,
}

/// An HTTP stream context.
#[derive(Default)]
pub(crate) struct Stream {
    pub(crate) request_headers: Pairs,
    pub(crate) request_trailers: Pairs,
    pub(crate) response_headers: Pairs,
    pub(crate) response_trailers: Pairs,
    pub(crate) action: Option<Action>,
    pub(crate) local_response: Option<LocalResponse>,
    pub(crate) resumed: bool,
    pub(crate) reset: bool,
}

/// The response being delivered by `proxy_on_http_call_response`.
pub(crate) struct CallResponse {
    pub(crate) headers: Pairs,
    pub(crate) body: Vec<u8>,
    pub(crate) trailers: Pairs,
}

pub(crate) struct State {
    pub(crate) shared: SharedData,
    pub(crate) now_nanos: u64,
    pub(crate) rng: u64,
    pub(crate) vm_config: Vec<u8>,
    pub(crate) plugin_config: Vec<u8>,
    pub(crate) tick_period_ms: u32,
    pub(crate) logs: Vec<(LogLevel, String)>,
    /// Metric id - 1 → name (metric values live in `shared`).
    pub(crate) metric_ids: Vec<String>,
    pub(crate) properties: HashMap<Vec<u8>, Vec<u8>>,
    /// The guest export currently running (restricts buffer access).
    pub(crate) callback: &'static str,
    /// The context hostcalls act on.
    pub(crate) effective: u32,
    pub(crate) phases: BTreeMap<u32, Phase>,
    /// Contexts whose phase became `DoneRequested`, in order (so that finishing a request
    /// does not scan every context the VM ever had).
    pub(crate) done_requested: Vec<u32>,
    /// The guest's memory and allocator, looked up once after instantiation (Envoy
    /// resolves them once per VM too), not by name on every hostcall.
    pub(crate) memory: Option<wasmtime::Memory>,
    pub(crate) allocator: Option<wasmtime::TypedFunc<u32, u32>>,
    pub(crate) streams: BTreeMap<u32, Stream>,
    pub(crate) calls: BTreeMap<u32, (HttpCall, u32)>,
    pub(crate) next_token: u32,
    pub(crate) call_response: Option<CallResponse>,
}

impl State {
    pub(crate) fn new(shared: SharedData, now_nanos: u64) -> Self {
        State {
            shared,
            now_nanos,
            rng: 0x9E37_79B9_7F4A_7C15,
            vm_config: Vec::new(),
            plugin_config: Vec::new(),
            tick_period_ms: 0,
            logs: Vec::new(),
            metric_ids: Vec::new(),
            properties: HashMap::new(),
            callback: "",
            effective: 0,
            phases: BTreeMap::new(),
            done_requested: Vec::new(),
            memory: None,
            allocator: None,
            streams: BTreeMap::new(),
            calls: BTreeMap::new(),
            next_token: 1,
            call_response: None,
        }
    }

    pub(crate) fn is_live(&self, context_id: u32) -> bool {
        matches!(self.phases.get(&context_id), Some(p) if *p != Phase::Deleted)
    }

    /// The HTTP stream of the effective context, if it is a live one.
    fn effective_stream(&mut self) -> Option<&mut Stream> {
        if !self.is_live(self.effective) {
            return None;
        }
        self.streams.get_mut(&self.effective)
    }

    pub(crate) fn stream_for_op(&mut self) -> Result<&mut Stream, Status> {
        self.effective_stream().ok_or(Status::BadArgument)
    }

    /// The header map `map_type` as seen from the effective context.
    pub(crate) fn map(&mut self, map_type: u32) -> Result<&Pairs, Status> {
        use abi::map::*;
        match map_type {
            HTTP_REQUEST_HEADERS
            | HTTP_REQUEST_TRAILERS
            | HTTP_RESPONSE_HEADERS
            | HTTP_RESPONSE_TRAILERS => self.stream_map(map_type).map(|m| &*m),
            HTTP_CALL_RESPONSE_HEADERS => match &self.call_response {
                Some(r) => Ok(&r.headers),
                None => Err(Status::NotFound),
            },
            HTTP_CALL_RESPONSE_TRAILERS => match &self.call_response {
                Some(r) => Ok(&r.trailers),
                None => Err(Status::NotFound),
            },
            GRPC_CALL_INITIAL_METADATA | GRPC_CALL_TRAILING_METADATA => Err(Status::NotFound),
            _ => Err(Status::BadArgument),
        }
    }

    /// The header map `map_type` for modification.
    pub(crate) fn map_mut(&mut self, map_type: u32) -> Result<&mut Pairs, Status> {
        use abi::map::*;
        match map_type {
            HTTP_REQUEST_HEADERS
            | HTTP_REQUEST_TRAILERS
            | HTTP_RESPONSE_HEADERS
            | HTTP_RESPONSE_TRAILERS => self.stream_map(map_type),
            // Call responses are read-only.
            HTTP_CALL_RESPONSE_HEADERS | HTTP_CALL_RESPONSE_TRAILERS => Err(Status::BadArgument),
            GRPC_CALL_INITIAL_METADATA | GRPC_CALL_TRAILING_METADATA => Err(Status::NotFound),
            _ => Err(Status::BadArgument),
        }
    }

    fn stream_map(&mut self, map_type: u32) -> Result<&mut Pairs, Status> {
        use abi::map::*;
        let stream = self.effective_stream().ok_or(Status::NotFound)?;
        Ok(match map_type {
            HTTP_REQUEST_HEADERS => &mut stream.request_headers,
            HTTP_REQUEST_TRAILERS => &mut stream.request_trailers,
            HTTP_RESPONSE_HEADERS => &mut stream.response_headers,
            _ => &mut stream.response_trailers,
        })
    }

    /// The buffer `buffer_type` as available in the current callback.
    pub(crate) fn buffer(&self, buffer_type: u32) -> Result<&[u8], Status> {
        use abi::buffer::*;
        match buffer_type {
            VM_CONFIGURATION if self.callback == "proxy_on_vm_start" => Ok(&self.vm_config),
            PLUGIN_CONFIGURATION if self.callback == "proxy_on_configure" => {
                Ok(&self.plugin_config)
            }
            HTTP_CALL_RESPONSE_BODY => match &self.call_response {
                Some(r) => Ok(&r.body),
                None => Err(Status::NotFound),
            },
            HTTP_REQUEST_BODY
            | HTTP_RESPONSE_BODY
            | DOWNSTREAM_DATA
            | UPSTREAM_DATA
            | GRPC_CALL_MESSAGE
            | VM_CONFIGURATION
            | PLUGIN_CONFIGURATION
            | FOREIGN_FUNCTION_ARGUMENTS => Err(Status::NotFound),
            _ => Err(Status::BadArgument),
        }
    }

    /// Deterministic pseudo-random bytes (xorshift64*), for `random_get`.
    pub(crate) fn fill_random(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let mut x = self.rng;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.rng = x;
            let v = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
