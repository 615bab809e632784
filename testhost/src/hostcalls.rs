//! The functions the host exposes to the guest: every `env.proxy_*` hostcall
//! of ABI v0.2.1 and the small WASI subset the ABI specifies.
//!
//! Misbehaving guests get a status code, never a host panic: bad pointers
//! yield `INVALID_MEMORY_ACCESS` (WASI: `FAULT`), malformed serialized maps
//! `BAD_ARGUMENT`. Only a trap inside a guest function the host calls back
//! (the allocator) propagates as a trap.

use wasmtime::{Caller, Extern, Linker};

use crate::abi::{self, errno, Status};
use crate::shared::{Metric, MetricKind, Queue};
use crate::state::{Phase, State};
use crate::types::{find, HttpCall, LocalResponse, LogLevel, RequestId};

type C<'a> = Caller<'a, State>;

/// Why a hostcall did not succeed.
enum Fail {
    /// Report this status to the guest.
    Status(Status),
    /// A guest function called by the host trapped: propagate the trap.
    Trap(wasmtime::Error),
}

impl From<Status> for Fail {
    fn from(s: Status) -> Self {
        Fail::Status(s)
    }
}

type R<T = ()> = Result<T, Fail>;

/// Converts a hostcall outcome into the `proxy_status_t` returned to the guest.
fn status(r: R) -> wasmtime::Result<u32> {
    match r {
        Ok(()) => Ok(Status::Ok as u32),
        Err(Fail::Status(s)) => Ok(s as u32),
        Err(Fail::Trap(e)) => Err(e),
    }
}

/// Converts a WASI function outcome into a `wasi_errno_t`.
fn wasi(r: R<u32>) -> wasmtime::Result<u32> {
    match r {
        Ok(e) => Ok(e),
        Err(Fail::Status(Status::InvalidMemoryAccess)) => Ok(errno::FAULT),
        Err(Fail::Status(_)) => Ok(errno::INVAL),
        Err(Fail::Trap(e)) => Err(e),
    }
}

// ---------------------------------------------------------------------------
// Guest memory access

const IMA: Fail = Fail::Status(Status::InvalidMemoryAccess);

fn memory(c: &mut C) -> R<wasmtime::Memory> {
    if let Some(m) = c.data().memory {
        return Ok(m);
    }
    match c.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(IMA),
    }
}

fn read(c: &mut C, ptr: u32, len: u32) -> R<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let mem = memory(c)?;
    let start = ptr as usize;
    let end = start.checked_add(len as usize).ok_or(IMA)?;
    mem.data(&*c).get(start..end).map(<[u8]>::to_vec).ok_or(IMA)
}

fn read_string(c: &mut C, ptr: u32, len: u32) -> R<String> {
    Ok(String::from_utf8_lossy(&read(c, ptr, len)?).into_owned())
}

fn read_map(c: &mut C, ptr: u32, len: u32) -> R<abi::Pairs> {
    let bytes = read(c, ptr, len)?;
    abi::deserialize_map(&bytes).ok_or(Fail::Status(Status::BadArgument))
}

fn write(c: &mut C, ptr: u32, bytes: &[u8]) -> R {
    if bytes.is_empty() {
        return Ok(());
    }
    let mem = memory(c)?;
    let start = ptr as usize;
    let end = start.checked_add(bytes.len()).ok_or(IMA)?;
    let dst = mem.data_mut(&mut *c).get_mut(start..end).ok_or(IMA)?;
    dst.copy_from_slice(bytes);
    Ok(())
}

fn write_u32(c: &mut C, ptr: u32, v: u32) -> R {
    write(c, ptr, &v.to_le_bytes())
}

fn write_u64(c: &mut C, ptr: u32, v: u64) -> R {
    write(c, ptr, &v.to_le_bytes())
}

/// Allocates `size` bytes in the guest with its exported allocator.
fn alloc(c: &mut C, size: u32) -> R<u32> {
    let func = match c.data().allocator.clone() {
        Some(f) => f,
        None => ["proxy_on_memory_allocate", "malloc"]
            .iter()
            .find_map(|name| c.get_export(name).and_then(Extern::into_func))
            .ok_or(IMA)?
            .typed::<u32, u32>(&*c)
            .map_err(|_| IMA)?,
    };
    let ptr = func.call(&mut *c, size).map_err(Fail::Trap)?;
    if ptr == 0 {
        return Err(IMA);
    }
    Ok(ptr)
}

/// Returns `bytes` to the guest: copies them into guest-allocated memory and
/// stores its address and size at `ptr_ptr` and `size_ptr`. Empty data is
/// returned as a null pointer with size 0, as Envoy does.
fn return_bytes(c: &mut C, bytes: &[u8], ptr_ptr: u32, size_ptr: u32) -> R {
    let size = u32::try_from(bytes.len()).map_err(|_| Fail::Status(Status::InternalFailure))?;
    // Check the out-pointers before allocating, so a bad one leaks nothing.
    write_u32(c, ptr_ptr, 0)?;
    write_u32(c, size_ptr, 0)?;
    let ptr = if bytes.is_empty() {
        0
    } else {
        let p = alloc(c, size)?;
        write(c, p, bytes)?;
        p
    };
    write_u32(c, ptr_ptr, ptr)?;
    write_u32(c, size_ptr, size)
}

// ---------------------------------------------------------------------------
// Registration

macro_rules! env {
    ($linker:ident, $name:ident ( $($arg:ident : $ty:ty),* )) => {
        $linker.func_wrap(
            "env",
            stringify!($name),
            |mut c: C, $($arg: $ty),*| -> wasmtime::Result<u32> {
                status($name(&mut c, $($arg),*))
            },
        )?;
    };
}

macro_rules! wasi {
    ($linker:ident, $name:ident ( $($arg:ident : $ty:ty),* )) => {
        $linker.func_wrap(
            "wasi_snapshot_preview1",
            stringify!($name),
            |mut c: C, $($arg: $ty),*| -> wasmtime::Result<u32> { wasi($name(&mut c, $($arg),*)) },
        )?;
    };
}

pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    // Logging, time, timers.
    env!(linker, proxy_log(level: u32, ptr: u32, len: u32));
    env!(linker, proxy_get_log_level(ret: u32));
    env!(linker, proxy_get_current_time_nanoseconds(ret: u32));
    env!(linker, proxy_set_tick_period_milliseconds(period: u32));
    // Context lifecycle.
    env!(linker, proxy_set_effective_context(id: u32));
    env!(linker, proxy_done());
    // Buffers.
    env!(linker, proxy_get_buffer_bytes(t: u32, start: u32, max: u32, ret_ptr: u32, ret_size: u32));
    env!(linker, proxy_get_buffer_status(t: u32, ret_size: u32, ret_flags: u32));
    env!(linker, proxy_set_buffer_bytes(t: u32, start: u32, size: u32, ptr: u32, len: u32));
    // Header maps.
    env!(linker, proxy_get_header_map_pairs(t: u32, ret_ptr: u32, ret_size: u32));
    env!(linker, proxy_get_header_map_size(t: u32, ret_size: u32));
    env!(linker, proxy_set_header_map_pairs(t: u32, ptr: u32, len: u32));
    env!(linker, proxy_get_header_map_value(t: u32, kp: u32, kl: u32, ret_ptr: u32, ret_size: u32));
    env!(linker, proxy_add_header_map_value(t: u32, kp: u32, kl: u32, vp: u32, vl: u32));
    env!(linker, proxy_replace_header_map_value(t: u32, kp: u32, kl: u32, vp: u32, vl: u32));
    env!(linker, proxy_remove_header_map_value(t: u32, kp: u32, kl: u32));
    // Properties.
    env!(linker, proxy_get_property(pp: u32, pl: u32, ret_ptr: u32, ret_size: u32));
    env!(linker, proxy_set_property(pp: u32, pl: u32, vp: u32, vl: u32));
    // Shared data and queues.
    env!(linker, proxy_get_shared_data(
        kp: u32, kl: u32, ret_ptr: u32, ret_size: u32, ret_cas: u32
    ));
    env!(linker, proxy_set_shared_data(kp: u32, kl: u32, vp: u32, vl: u32, cas: u32));
    env!(linker, proxy_register_shared_queue(np: u32, nl: u32, ret_id: u32));
    env!(linker, proxy_resolve_shared_queue(vp: u32, vl: u32, np: u32, nl: u32, ret_id: u32));
    env!(linker, proxy_enqueue_shared_queue(id: u32, vp: u32, vl: u32));
    env!(linker, proxy_dequeue_shared_queue(id: u32, ret_ptr: u32, ret_size: u32));
    // Streams.
    env!(linker, proxy_continue_stream(t: u32));
    env!(linker, proxy_close_stream(t: u32));
    env!(linker, proxy_get_status(ret_code: u32, ret_ptr: u32, ret_size: u32));
    env!(linker, proxy_send_local_response(
        code: u32, dp: u32, dl: u32, bp: u32, bl: u32, hp: u32, hl: u32, grpc_status: i32
    ));
    // HTTP and gRPC calls.
    env!(linker, proxy_http_call(
        up: u32, ul: u32, hp: u32, hl: u32, bp: u32, bl: u32, tp: u32, tl: u32,
        timeout: u32, ret_token: u32
    ));
    env!(linker, proxy_grpc_call(
        up: u32, ul: u32, sp: u32, sl: u32, mp: u32, ml: u32, ip: u32, il: u32,
        bp: u32, bl: u32, timeout: u32, ret_token: u32
    ));
    env!(linker, proxy_grpc_stream(
        up: u32, ul: u32, sp: u32, sl: u32, mp: u32, ml: u32, ip: u32, il: u32, ret_token: u32
    ));
    env!(linker, proxy_grpc_send(token: u32, ptr: u32, len: u32, end_stream: u32));
    env!(linker, proxy_grpc_cancel(token: u32));
    env!(linker, proxy_grpc_close(token: u32));
    // Metrics.
    env!(linker, proxy_define_metric(t: u32, np: u32, nl: u32, ret_id: u32));
    env!(linker, proxy_increment_metric(id: u32, delta: i64));
    env!(linker, proxy_record_metric(id: u32, value: u64));
    env!(linker, proxy_get_metric(id: u32, ret: u32));
    // Foreign functions.
    env!(linker, proxy_call_foreign_function(
        np: u32, nl: u32, ap: u32, al: u32, ret_ptr: u32, ret_size: u32
    ));

    // The WASI subset of ABI v0.2.1 (for filters built for wasm32-wasip1).
    wasi!(linker, fd_write(fd: u32, iovs: u32, iovs_len: u32, ret: u32));
    wasi!(linker, clock_time_get(clock: u32, precision: u64, ret: u32));
    wasi!(linker, random_get(ptr: u32, len: u32));
    wasi!(linker, environ_sizes_get(ret_count: u32, ret_size: u32));
    wasi!(linker, environ_get(ret_array: u32, ret_buffer: u32));
    wasi!(linker, args_sizes_get(ret_count: u32, ret_size: u32));
    wasi!(linker, args_get(ret_array: u32, ret_buffer: u32));
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "proc_exit",
        |_: C, code: u32| -> wasmtime::Result<()> {
            Err(wasmtime::format_err!("guest called proc_exit({code})"))
        },
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Logging, time, timers

fn proxy_log(c: &mut C, level: u32, ptr: u32, len: u32) -> R {
    let level = LogLevel::from_abi(level).ok_or(Fail::Status(Status::BadArgument))?;
    let message = read_string(c, ptr, len)?;
    c.data_mut().logs.push((level, message));
    Ok(())
}

fn proxy_get_log_level(c: &mut C, ret: u32) -> R {
    // Everything is recorded, so the host's level is the lowest one.
    write_u32(c, ret, 0)
}

fn proxy_get_current_time_nanoseconds(c: &mut C, ret: u32) -> R {
    let now = c.data().now_nanos;
    write_u64(c, ret, now)
}

fn proxy_set_tick_period_milliseconds(c: &mut C, period: u32) -> R {
    c.data_mut().tick_period_ms = period;
    Ok(())
}

// ---------------------------------------------------------------------------
// Context lifecycle

fn proxy_set_effective_context(c: &mut C, id: u32) -> R {
    let state = c.data_mut();
    if !state.is_live(id) {
        return Err(Status::BadArgument.into());
    }
    state.effective = id;
    Ok(())
}

fn proxy_done(c: &mut C) -> R {
    let state = c.data_mut();
    match state.phases.get_mut(&state.effective) {
        Some(p) if *p == Phase::AwaitingDone => {
            *p = Phase::DoneRequested;
            let id = state.effective;
            state.done_requested.push(id);
            Ok(())
        }
        _ => Err(Status::NotFound.into()),
    }
}

// ---------------------------------------------------------------------------
// Buffers

fn proxy_get_buffer_bytes(
    c: &mut C,
    t: u32,
    start: u32,
    max: u32,
    ret_ptr: u32,
    ret_size: u32,
) -> R {
    let bytes = {
        let buf = c.data().buffer(t)?;
        let start = start as usize;
        if start > buf.len() {
            return Err(Status::BadArgument.into());
        }
        let end = start.saturating_add(max as usize).min(buf.len());
        buf[start..end].to_vec()
    };
    return_bytes(c, &bytes, ret_ptr, ret_size)
}

fn proxy_get_buffer_status(c: &mut C, t: u32, ret_size: u32, ret_flags: u32) -> R {
    let len = c.data().buffer(t)?.len() as u32;
    write_u32(c, ret_size, len)?;
    write_u32(c, ret_flags, 0)
}

fn proxy_set_buffer_bytes(c: &mut C, t: u32, _start: u32, _size: u32, ptr: u32, len: u32) -> R {
    read(c, ptr, len)?;
    // No buffer this host models is writable; report whether the type exists.
    match c.data().buffer(t) {
        Err(Status::BadArgument) => Err(Status::BadArgument.into()),
        _ => Err(Status::NotFound.into()),
    }
}

// ---------------------------------------------------------------------------
// Header maps (names compare case-insensitively; added names are lowercased,
// as Envoy's header maps do)

fn proxy_get_header_map_pairs(c: &mut C, t: u32, ret_ptr: u32, ret_size: u32) -> R {
    let pairs = c.data_mut().map(t)?;
    let bytes = if pairs.is_empty() {
        Vec::new()
    } else {
        abi::serialize_map(pairs)
    };
    return_bytes(c, &bytes, ret_ptr, ret_size)
}

fn proxy_get_header_map_size(c: &mut C, t: u32, ret_size: u32) -> R {
    let pairs = c.data_mut().map(t)?;
    let size = if pairs.is_empty() {
        0
    } else {
        abi::serialize_map(pairs).len() as u32
    };
    write_u32(c, ret_size, size)
}

fn proxy_set_header_map_pairs(c: &mut C, t: u32, ptr: u32, len: u32) -> R {
    let pairs = read_map(c, ptr, len)?;
    let map = c.data_mut().map_mut(t)?;
    *map = pairs
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    Ok(())
}

fn proxy_get_header_map_value(
    c: &mut C,
    t: u32,
    kp: u32,
    kl: u32,
    ret_ptr: u32,
    ret_size: u32,
) -> R {
    let key = read_string(c, kp, kl)?;
    let value = find(c.data_mut().map(t)?, &key)
        .ok_or(Fail::Status(Status::NotFound))?
        .to_string();
    return_bytes(c, value.as_bytes(), ret_ptr, ret_size)
}

fn proxy_add_header_map_value(c: &mut C, t: u32, kp: u32, kl: u32, vp: u32, vl: u32) -> R {
    let key = read_string(c, kp, kl)?;
    let value = read_string(c, vp, vl)?;
    c.data_mut()
        .map_mut(t)?
        .push((key.to_ascii_lowercase(), value));
    Ok(())
}

fn proxy_replace_header_map_value(c: &mut C, t: u32, kp: u32, kl: u32, vp: u32, vl: u32) -> R {
    let key = read_string(c, kp, kl)?;
    let value = read_string(c, vp, vl)?;
    let map = c.data_mut().map_mut(t)?;
    match map.iter().position(|(k, _)| k.eq_ignore_ascii_case(&key)) {
        Some(first) => {
            map[first].1 = value;
            let mut i = 0;
            map.retain(|(k, _)| {
                i += 1;
                i - 1 == first || !k.eq_ignore_ascii_case(&key)
            });
        }
        None => map.push((key.to_ascii_lowercase(), value)),
    }
    Ok(())
}

fn proxy_remove_header_map_value(c: &mut C, t: u32, kp: u32, kl: u32) -> R {
    let key = read_string(c, kp, kl)?;
    c.data_mut()
        .map_mut(t)?
        .retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
    Ok(())
}

// ---------------------------------------------------------------------------
// Properties (path segments joined by NUL, as the SDK serializes them)

fn proxy_get_property(c: &mut C, pp: u32, pl: u32, ret_ptr: u32, ret_size: u32) -> R {
    let path = read(c, pp, pl)?;
    let value = c
        .data()
        .properties
        .get(&path)
        .cloned()
        .ok_or(Fail::Status(Status::NotFound))?;
    return_bytes(c, &value, ret_ptr, ret_size)
}

fn proxy_set_property(c: &mut C, pp: u32, pl: u32, vp: u32, vl: u32) -> R {
    let path = read(c, pp, pl)?;
    let value = read(c, vp, vl)?;
    c.data_mut().properties.insert(path, value);
    Ok(())
}

// ---------------------------------------------------------------------------
// Shared data and queues

fn proxy_get_shared_data(
    c: &mut C,
    kp: u32,
    kl: u32,
    ret_ptr: u32,
    ret_size: u32,
    ret_cas: u32,
) -> R {
    let key = read_string(c, kp, kl)?;
    let (value, cas) = c
        .data()
        .shared
        .lock()
        .data
        .get(&key)
        .cloned()
        .ok_or(Fail::Status(Status::NotFound))?;
    write_u32(c, ret_cas, 0)?;
    return_bytes(c, &value, ret_ptr, ret_size)?;
    write_u32(c, ret_cas, cas)
}

fn proxy_set_shared_data(c: &mut C, kp: u32, kl: u32, vp: u32, vl: u32, cas: u32) -> R {
    let key = read_string(c, kp, kl)?;
    let value = read(c, vp, vl)?;
    let shared = c.data().shared.clone();
    let mut inner = shared.lock();
    if let Some((_, current)) = inner.data.get(&key) {
        if cas != 0 && cas != *current {
            return Err(Status::CasMismatch.into());
        }
    }
    let next = inner.bump_cas();
    inner.data.insert(key, (value, next));
    Ok(())
}

/// The VM id this host reports for shared queues.
const VM_ID: &str = "";

fn proxy_register_shared_queue(c: &mut C, np: u32, nl: u32, ret_id: u32) -> R {
    let name = read_string(c, np, nl)?;
    let id = {
        let shared = c.data().shared.clone();
        let mut inner = shared.lock();
        match inner
            .queues
            .iter()
            .position(|q| q.vm_id == VM_ID && q.name == name)
        {
            Some(i) => i as u32 + 1,
            None => {
                inner.queues.push(Queue {
                    vm_id: VM_ID.to_string(),
                    name,
                    items: Default::default(),
                });
                inner.queues.len() as u32
            }
        }
    };
    write_u32(c, ret_id, id)
}

fn proxy_resolve_shared_queue(c: &mut C, vp: u32, vl: u32, np: u32, nl: u32, ret_id: u32) -> R {
    let vm_id = read_string(c, vp, vl)?;
    let name = read_string(c, np, nl)?;
    let id = c
        .data()
        .shared
        .lock()
        .queues
        .iter()
        .position(|q| q.vm_id == vm_id && q.name == name)
        .ok_or(Fail::Status(Status::NotFound))?;
    write_u32(c, ret_id, id as u32 + 1)
}

fn proxy_enqueue_shared_queue(c: &mut C, id: u32, vp: u32, vl: u32) -> R {
    let value = read(c, vp, vl)?;
    let shared = c.data().shared.clone();
    let mut inner = shared.lock();
    let queue = (id as usize)
        .checked_sub(1)
        .and_then(|i| inner.queues.get_mut(i))
        .ok_or(Fail::Status(Status::NotFound))?;
    queue.items.push_back(value);
    Ok(())
}

fn proxy_dequeue_shared_queue(c: &mut C, id: u32, ret_ptr: u32, ret_size: u32) -> R {
    let item = {
        let shared = c.data().shared.clone();
        let mut inner = shared.lock();
        let queue = (id as usize)
            .checked_sub(1)
            .and_then(|i| inner.queues.get_mut(i))
            .ok_or(Fail::Status(Status::NotFound))?;
        queue.items.pop_front().ok_or(Fail::Status(Status::Empty))?
    };
    return_bytes(c, &item, ret_ptr, ret_size)
}

// ---------------------------------------------------------------------------
// Streams

fn proxy_continue_stream(c: &mut C, t: u32) -> R {
    use abi::stream::*;
    let stream = c.data_mut().stream_for_op()?;
    match t {
        HTTP_REQUEST => stream.resumed = true,
        HTTP_RESPONSE => {}
        DOWNSTREAM | UPSTREAM => return Err(Status::Unimplemented.into()),
        _ => return Err(Status::BadArgument.into()),
    }
    Ok(())
}

fn proxy_close_stream(c: &mut C, t: u32) -> R {
    use abi::stream::*;
    let stream = c.data_mut().stream_for_op()?;
    match t {
        HTTP_REQUEST | HTTP_RESPONSE => stream.reset = true,
        _ => return Err(Status::BadArgument.into()),
    }
    Ok(())
}

fn proxy_get_status(c: &mut C, ret_code: u32, ret_ptr: u32, ret_size: u32) -> R {
    let code = match &c.data().call_response {
        // A failed call (no headers) reports 0.
        Some(r) => find(&r.headers, ":status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        None => return Err(Status::NotFound.into()),
    };
    write_u32(c, ret_code, code)?;
    return_bytes(c, &[], ret_ptr, ret_size)
}

#[allow(clippy::too_many_arguments)]
fn proxy_send_local_response(
    c: &mut C,
    code: u32,
    dp: u32,
    dl: u32,
    bp: u32,
    bl: u32,
    hp: u32,
    hl: u32,
    grpc_status: i32,
) -> R {
    let details = read_string(c, dp, dl)?;
    let body = read(c, bp, bl)?;
    let headers = read_map(c, hp, hl)?;
    let stream = c.data_mut().stream_for_op()?;
    stream.local_response = Some(LocalResponse {
        status: code,
        headers,
        body,
        details,
        grpc_status,
    });
    Ok(())
}

// ---------------------------------------------------------------------------
// HTTP and gRPC calls

#[allow(clippy::too_many_arguments)]
fn proxy_http_call(
    c: &mut C,
    up: u32,
    ul: u32,
    hp: u32,
    hl: u32,
    bp: u32,
    bl: u32,
    tp: u32,
    tl: u32,
    timeout: u32,
    ret_token: u32,
) -> R {
    let upstream = read_string(c, up, ul)?;
    let headers = read_map(c, hp, hl)?;
    let body = read(c, bp, bl)?;
    let trailers = read_map(c, tp, tl)?;
    // Envoy refuses calls without these pseudo-headers.
    let has = |name| find(&headers, name).is_some_and(|v| !v.is_empty());
    if upstream.is_empty() || !has(":method") || !has(":path") || !has(":authority") {
        return Err(Status::BadArgument.into());
    }
    // Validate the out-pointer before registering the call.
    write_u32(c, ret_token, 0)?;
    let state = c.data_mut();
    let token = state.next_token;
    state.next_token = state.next_token.wrapping_add(1).max(1);
    let owner = state.effective;
    let request = state
        .streams
        .contains_key(&owner)
        .then_some(RequestId(owner));
    let call = HttpCall {
        token,
        upstream,
        headers,
        body,
        trailers,
        timeout_ms: timeout,
        request,
    };
    state.calls.insert(token, (call, owner));
    write_u32(c, ret_token, token)
}

/// gRPC is not modelled: calls fail as if the host could not send them.
#[allow(clippy::too_many_arguments)]
fn proxy_grpc_call(
    c: &mut C,
    up: u32,
    ul: u32,
    sp: u32,
    sl: u32,
    mp: u32,
    ml: u32,
    ip: u32,
    il: u32,
    bp: u32,
    bl: u32,
    _timeout: u32,
    ret_token: u32,
) -> R {
    for (p, l) in [(up, ul), (sp, sl), (mp, ml), (ip, il), (bp, bl)] {
        read(c, p, l)?;
    }
    write_u32(c, ret_token, 0)?;
    Err(Status::InternalFailure.into())
}

#[allow(clippy::too_many_arguments)]
fn proxy_grpc_stream(
    c: &mut C,
    up: u32,
    ul: u32,
    sp: u32,
    sl: u32,
    mp: u32,
    ml: u32,
    ip: u32,
    il: u32,
    ret_token: u32,
) -> R {
    for (p, l) in [(up, ul), (sp, sl), (mp, ml), (ip, il)] {
        read(c, p, l)?;
    }
    write_u32(c, ret_token, 0)?;
    Err(Status::InternalFailure.into())
}

fn proxy_grpc_send(c: &mut C, _token: u32, ptr: u32, len: u32, _end_stream: u32) -> R {
    read(c, ptr, len)?;
    Err(Status::NotFound.into())
}

fn proxy_grpc_cancel(_: &mut C, _token: u32) -> R {
    Err(Status::NotFound.into())
}

fn proxy_grpc_close(_: &mut C, _token: u32) -> R {
    Err(Status::NotFound.into())
}

// ---------------------------------------------------------------------------
// Metrics (values live in the shared store; ids are per VM)

fn proxy_define_metric(c: &mut C, t: u32, np: u32, nl: u32, ret_id: u32) -> R {
    let kind = MetricKind::from_abi(t).ok_or(Fail::Status(Status::BadArgument))?;
    let name = read_string(c, np, nl)?;
    write_u32(c, ret_id, 0)?;
    {
        let shared = c.data().shared.clone();
        let mut inner = shared.lock();
        let metric = inner.metrics.entry(name.clone()).or_insert(Metric {
            kind,
            value: 0,
            samples: Vec::new(),
        });
        if metric.kind != kind {
            return Err(Status::BadArgument.into());
        }
    }
    let ids = &mut c.data_mut().metric_ids;
    let id = match ids.iter().position(|n| *n == name) {
        Some(i) => i + 1,
        None => {
            ids.push(name);
            ids.len()
        }
    };
    write_u32(c, ret_id, id as u32)
}

/// Runs `f` on the metric with per-VM id `id`.
fn with_metric<T>(c: &mut C, id: u32, f: impl FnOnce(&mut Metric) -> R<T>) -> R<T> {
    let state = c.data();
    let name = (id as usize)
        .checked_sub(1)
        .and_then(|i| state.metric_ids.get(i))
        .ok_or(Fail::Status(Status::NotFound))?;
    let mut inner = state.shared.lock();
    let metric = inner
        .metrics
        .get_mut(name)
        .ok_or(Fail::Status(Status::NotFound))?;
    f(metric)
}

fn proxy_increment_metric(c: &mut C, id: u32, delta: i64) -> R {
    with_metric(c, id, |m| {
        match m.kind {
            MetricKind::Counter if delta < 0 => return Err(Status::BadArgument.into()),
            MetricKind::Counter | MetricKind::Gauge => {
                m.value = m.value.saturating_add_signed(delta);
            }
            MetricKind::Histogram => return Err(Status::BadArgument.into()),
        }
        Ok(())
    })
}

fn proxy_record_metric(c: &mut C, id: u32, value: u64) -> R {
    with_metric(c, id, |m| {
        match m.kind {
            MetricKind::Counter | MetricKind::Gauge => m.value = value,
            MetricKind::Histogram => m.samples.push(value),
        }
        Ok(())
    })
}

fn proxy_get_metric(c: &mut C, id: u32, ret: u32) -> R {
    let value = with_metric(c, id, |m| match m.kind {
        MetricKind::Histogram => Err(Status::BadArgument.into()),
        _ => Ok(m.value),
    })?;
    write_u64(c, ret, value)
}

// ---------------------------------------------------------------------------
// Foreign functions: none are registered.

fn proxy_call_foreign_function(
    c: &mut C,
    np: u32,
    nl: u32,
    ap: u32,
    al: u32,
    _ret_ptr: u32,
    _ret_size: u32,
) -> R {
    read(c, np, nl)?;
    read(c, ap, al)?;
    Err(Status::NotFound.into())
}

// ---------------------------------------------------------------------------
// WASI subset

/// Writes to stdout are logged at INFO, to stderr at ERROR (per the ABI).
fn fd_write(c: &mut C, fd: u32, iovs: u32, iovs_len: u32, ret: u32) -> R<u32> {
    let level = match fd {
        1 => LogLevel::Info,
        2 => LogLevel::Error,
        _ => return Ok(errno::BADF),
    };
    let table_len = iovs_len.checked_mul(8).ok_or(IMA)?;
    let table = read(c, iovs, table_len)?;
    let mut bytes = Vec::new();
    for iov in table.chunks_exact(8) {
        let ptr = u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
        let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
        bytes.extend(read(c, ptr, len)?);
    }
    let written = bytes.len() as u32;
    write_u32(c, ret, written)?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    if !text.is_empty() {
        c.data_mut().logs.push((level, text.to_string()));
    }
    Ok(errno::SUCCESS)
}

fn clock_time_get(c: &mut C, clock: u32, _precision: u64, ret: u32) -> R<u32> {
    if clock > 1 {
        return Ok(errno::NOTSUP);
    }
    // Both REALTIME and MONOTONIC follow the host's simulated clock.
    let now = c.data().now_nanos;
    write_u64(c, ret, now)?;
    Ok(errno::SUCCESS)
}

fn random_get(c: &mut C, ptr: u32, len: u32) -> R<u32> {
    if len > 65536 {
        return Ok(errno::INVAL);
    }
    let mut buf = vec![0; len as usize];
    c.data_mut().fill_random(&mut buf);
    write(c, ptr, &buf)?;
    Ok(errno::SUCCESS)
}

fn environ_sizes_get(c: &mut C, ret_count: u32, ret_size: u32) -> R<u32> {
    write_u32(c, ret_count, 0)?;
    write_u32(c, ret_size, 0)?;
    Ok(errno::SUCCESS)
}

fn environ_get(_: &mut C, _ret_array: u32, _ret_buffer: u32) -> R<u32> {
    Ok(errno::SUCCESS)
}

fn args_sizes_get(c: &mut C, ret_count: u32, ret_size: u32) -> R<u32> {
    environ_sizes_get(c, ret_count, ret_size)
}

fn args_get(_: &mut C, _ret_array: u32, _ret_buffer: u32) -> R<u32> {
    Ok(errno::SUCCESS)
}
