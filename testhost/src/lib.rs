//! A small in-process proxy-wasm host (ABI v0.2.1, as the Rust `proxy-wasm`
//! 0.2 SDK uses it) on wasmtime, for testing Envoy wasm filters without
//! Envoy.
//!
//! One [`Host`] is one VM, i.e. one Envoy worker thread: it owns a root
//! context (id 1) and creates an HTTP stream context per
//! [`request`](Host::request). Several hosts built with
//! [`Host::with_shared`] over clones of one [`SharedData`] simulate several
//! workers of one Envoy process (shared key-value store, queues and stats).
//!
//! Nothing happens on its own: time moves with [`Host::set_time`] /
//! [`Host::advance`], timers fire with [`Host::tick`], and outbound HTTP
//! calls wait in [`Host::pending_http_calls`] until the test answers them.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use proxy_wasm_testhost::{Action, Host};
//! let wasm = std::fs::read("filter.wasm")?;
//! let mut host = Host::new(&wasm)?;
//! assert!(host.start("")?);
//! assert!(host.configure(r#"{"tenant": "..."}"#)?);
//! let req = host.request(&[(":method", "GET"), (":path", "/"), ("authorization", "Bearer x")])?;
//! if host.action(req) == Some(Action::Pause) {
//!     let call = host.pending_http_calls().remove(0);
//!     host.respond_http_call(call.token, &[(":status", "200")], b"{}")?;
//!     assert!(host.resumed(req));
//! }
//! # Ok(())
//! # }
//! ```

mod abi;
mod hostcalls;
mod shared;
mod state;
mod types;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _, Result};
use wasmtime::{Engine, Instance, Linker, Module, Store, TypedFunc, WasmParams, WasmResults};

pub use shared::SharedData;
pub use types::{Action, HttpCall, LocalResponse, LogLevel, RequestId};

use state::{CallResponse, Phase, State, Stream};

/// Context id of the root (plugin) context, as Envoy numbers it.
const ROOT: u32 = 1;

/// A proxy-wasm VM running one filter plugin; see the crate docs.
pub struct Host {
    store: Store<State>,
    instance: Instance,
    next_context_id: u32,
    /// Set when a guest call trapped: like Envoy, the VM is then unusable.
    failed: Option<String>,
    /// Exports by name and signature, resolved on first use (Envoy resolves the ABI's
    /// callbacks once per VM): a lookup by name and a type check per call would cost
    /// more than some of the callbacks themselves.
    exports: Vec<Export>,
}

/// A resolved export: name, signature, and the `TypedFunc` (`None` when the module does
/// not export it).
type Export = (
    &'static str,
    std::any::TypeId,
    Option<Box<dyn std::any::Any + Send + Sync>>,
);

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("now_nanos", &self.store.data().now_nanos)
            .field("requests", &self.store.data().streams.len())
            .field("pending_http_calls", &self.store.data().calls.len())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

fn engine() -> Result<&'static Engine> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = wasmtime::Config::new();
            // Tests run little guest code: favour compile time. Benchmarks set
            // PROXY_WASM_TESTHOST_OPT=speed to run optimised guest code, as
            // Envoy's runtimes do.
            let speed = std::env::var("PROXY_WASM_TESTHOST_OPT").is_ok_and(|v| v == "speed");
            config.cranelift_opt_level(if speed {
                wasmtime::OptLevel::Speed
            } else {
                wasmtime::OptLevel::None
            });
            // PROXY_WASM_TESTHOST_PROFILE=perfmap writes /tmp/perf-<pid>.map, so that
            // `perf report` names the guest's functions.
            if std::env::var("PROXY_WASM_TESTHOST_PROFILE").is_ok_and(|v| v == "perfmap") {
                config.profiler(wasmtime::ProfilingStrategy::PerfMap);
            }
            Engine::new(&config).map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(|e| anyhow!("creating the wasmtime engine: {e}"))
}

/// Compiles `wasm`, reusing the compiled module for identical bytes (tests
/// typically create many hosts from one filter).
fn compile(wasm: &[u8]) -> Result<Module> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, Module>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(module) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(wasm) {
        return Ok(module.clone());
    }
    let module = Module::new(engine()?, wasm)
        .map_err(anyhow::Error::from)
        .context("invalid wasm module")?;
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(wasm.to_vec(), module.clone());
    Ok(module)
}

impl Host {
    /// Loads the filter `wasm` into a new VM with its own [`SharedData`],
    /// runs its start function and creates the root context (id 1).
    pub fn new(wasm: &[u8]) -> Result<Host> {
        Self::with_shared(wasm, SharedData::new())
    }

    /// Like [`new`](Self::new), sharing `shared` with other hosts (workers).
    pub fn with_shared(wasm: &[u8], shared: SharedData) -> Result<Host> {
        let module = compile(wasm)?;
        let has_export = |name: &str| module.exports().any(|e| e.name() == name);
        if !["proxy_abi_version_0_2_1", "proxy_abi_version_0_2_0"]
            .iter()
            .any(|v| has_export(v))
        {
            bail!(
                "the module exports no proxy_abi_version_0_2_x marker: not a proxy-wasm 0.2 filter"
            );
        }

        let mut linker = Linker::new(engine()?);
        hostcalls::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
        // Imports beyond the ABI trap when called (instead of failing here).
        linker
            .define_unknown_imports_as_traps(&module)
            .map_err(anyhow::Error::from)?;

        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut store = Store::new(engine()?, State::new(shared, now));
        let instance = linker
            .instantiate(&mut store, &module)
            .map_err(anyhow::Error::from)
            .context("instantiating the filter")?;
        match instance.get_memory(&mut store, "memory") {
            Some(m) if !m.ty(&store).is_64() => {}
            Some(_) => bail!("64-bit memories are not supported"),
            None => bail!("the module exports no memory"),
        }

        let memory = instance.get_memory(&mut store, "memory");
        let allocator = ["proxy_on_memory_allocate", "malloc"]
            .iter()
            .find_map(|name| instance.get_func(&mut store, name))
            .and_then(|f| f.typed::<u32, u32>(&store).ok());
        store.data_mut().memory = memory;
        store.data_mut().allocator = allocator;
        let mut host = Host {
            store,
            instance,
            next_context_id: ROOT + 1,
            failed: None,
            exports: Vec::new(),
        };
        if host.has_export("_initialize") {
            host.call::<(), ()>("_initialize", 0, ())?;
            if host.has_export("main") {
                host.call::<(u32, u32), u32>("main", 0, (0, 0))?;
            }
        } else if host.has_export("_start") {
            host.call::<(), ()>("_start", 0, ())?;
        }
        host.store.data_mut().phases.insert(ROOT, Phase::Active);
        host.call::<(u32, u32), ()>("proxy_on_context_create", ROOT, (ROOT, 0))?;
        Ok(host)
    }

    /// A handle to this host's shared store (shared data, queues, stats).
    pub fn shared(&self) -> SharedData {
        self.store.data().shared.clone()
    }

    // -- time ---------------------------------------------------------------

    /// Sets the clock the filter sees (`proxy_get_current_time_nanoseconds`,
    /// WASI `clock_time_get`), in nanoseconds since the Unix epoch. The clock
    /// starts at the real time when the host is created and only moves when
    /// told to.
    pub fn set_time(&mut self, unix_nanos: u64) {
        self.store.data_mut().now_nanos = unix_nanos;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&mut self, by: Duration) {
        let state = self.store.data_mut();
        state.now_nanos = state.now_nanos.saturating_add(by.as_nanos() as u64);
    }

    /// The clock the filter sees, in nanoseconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        self.store.data().now_nanos
    }

    // -- plugin lifecycle ---------------------------------------------------

    /// Calls `proxy_on_vm_start` on the root context with `vm_config` as
    /// the VM configuration; returns what the filter returned.
    pub fn start(&mut self, vm_config: impl AsRef<[u8]>) -> Result<bool> {
        let config = vm_config.as_ref().to_vec();
        let size = config.len() as u32;
        self.store.data_mut().vm_config = config;
        let ok = self.call::<(u32, u32), u32>("proxy_on_vm_start", ROOT, (ROOT, size))?;
        Ok(ok.is_none_or(|v| v != 0))
    }

    /// Calls `proxy_on_configure` on the root context with `plugin_config`
    /// as the plugin configuration; returns what the filter returned.
    pub fn configure(&mut self, plugin_config: impl AsRef<[u8]>) -> Result<bool> {
        let config = plugin_config.as_ref().to_vec();
        let size = config.len() as u32;
        self.store.data_mut().plugin_config = config;
        let ok = self.call::<(u32, u32), u32>("proxy_on_configure", ROOT, (ROOT, size))?;
        Ok(ok.is_none_or(|v| v != 0))
    }

    /// The tick period the filter set, if any.
    pub fn tick_period(&self) -> Option<Duration> {
        match self.store.data().tick_period_ms {
            0 => None,
            ms => Some(Duration::from_millis(ms.into())),
        }
    }

    /// Calls `proxy_on_tick` on the root context if the filter set a tick
    /// period; returns whether it did. Does not move the clock.
    pub fn tick(&mut self) -> Result<bool> {
        if self.tick_period().is_none() {
            return Ok(false);
        }
        self.call::<u32, ()>("proxy_on_tick", ROOT, ROOT)?;
        Ok(true)
    }

    /// Sets a property the filter can read with `proxy_get_property`, e.g.
    /// `set_property(&["source", "address"], "10.0.0.1:1234")`. Unset
    /// properties are reported as not found.
    pub fn set_property(&mut self, path: &[&str], value: impl AsRef<[u8]>) {
        let key = path.join("\0").into_bytes();
        self.store
            .data_mut()
            .properties
            .insert(key, value.as_ref().to_vec());
    }

    /// Calls `proxy_on_done` on the root context (VM shutdown). When it
    /// returns true, also calls `proxy_on_log` and `proxy_on_delete` and
    /// returns true; otherwise the root context stays until the filter calls
    /// `proxy_done`.
    pub fn shutdown(&mut self) -> Result<bool> {
        self.finish_context(ROOT)
    }

    /// Whether a guest call trapped (e.g. the filter panicked). Like Envoy,
    /// the host then refuses further calls into the VM.
    pub fn failed(&self) -> bool {
        self.failed.is_some()
    }

    // -- requests -----------------------------------------------------------

    /// Creates an HTTP stream context and calls `proxy_on_request_headers`
    /// with `headers` (and `end_of_stream = true`), recording the returned
    /// [`Action`].
    pub fn request(&mut self, headers: &[(&str, &str)]) -> Result<RequestId> {
        let id = self.next_context_id;
        self.next_context_id += 1;
        let state = self.store.data_mut();
        state.phases.insert(id, Phase::Active);
        state.streams.insert(
            id,
            Stream {
                request_headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Stream::default()
            },
        );
        self.call::<(u32, u32), ()>("proxy_on_context_create", id, (id, ROOT))?;
        let n = headers.len() as u32;
        let action = self
            .call::<(u32, u32, u32), u32>("proxy_on_request_headers", id, (id, n, 1))?
            .unwrap_or(0);
        let action = Action::from_abi(action)
            .ok_or_else(|| anyhow!("proxy_on_request_headers returned invalid action {action}"))?;
        if let Some(stream) = self.store.data_mut().streams.get_mut(&id) {
            stream.action = Some(action);
        }
        Ok(RequestId(id))
    }

    /// What `proxy_on_request_headers` returned for `id`.
    pub fn action(&self, id: RequestId) -> Option<Action> {
        self.store.data().streams.get(&id.0)?.action
    }

    /// The local response the filter sent for `id`, if any.
    pub fn local_response(&self, id: RequestId) -> Option<&LocalResponse> {
        self.store
            .data()
            .streams
            .get(&id.0)?
            .local_response
            .as_ref()
    }

    /// The request headers of `id`, as the filter left them.
    pub fn request_headers(&self, id: RequestId) -> Option<&[(String, String)]> {
        Some(&self.store.data().streams.get(&id.0)?.request_headers)
    }

    /// The first value of request header `name` (case-insensitive) of `id`.
    pub fn request_header(&self, id: RequestId, name: &str) -> Option<&str> {
        types::find(self.request_headers(id)?, name)
    }

    /// Whether the filter resumed `id` (`proxy_continue_stream(HTTP_REQUEST)`).
    pub fn resumed(&self, id: RequestId) -> bool {
        self.store
            .data()
            .streams
            .get(&id.0)
            .is_some_and(|s| s.resumed)
    }

    /// Whether the filter reset `id` (`proxy_close_stream`).
    pub fn reset(&self, id: RequestId) -> bool {
        self.store
            .data()
            .streams
            .get(&id.0)
            .is_some_and(|s| s.reset)
    }

    /// Ends request `id` as Envoy does when the stream is destroyed:
    /// `proxy_on_done`, then (once done) `proxy_on_log` and
    /// `proxy_on_delete`. Pending HTTP calls of the request are cancelled.
    /// Returns what `proxy_on_done` returned. The request's recorded state
    /// stays inspectable.
    pub fn finish(&mut self, id: RequestId) -> Result<bool> {
        if !self.store.data().streams.contains_key(&id.0) {
            bail!("unknown request {id:?}");
        }
        self.finish_context(id.0)
    }

    // -- outbound HTTP calls ------------------------------------------------

    /// HTTP calls the filter dispatched that were not answered yet, oldest
    /// first.
    pub fn pending_http_calls(&self) -> Vec<HttpCall> {
        let calls = &self.store.data().calls;
        calls.values().map(|(call, _)| call.clone()).collect()
    }

    /// Delivers a response to the call `token`: calls
    /// `proxy_on_http_call_response` on the root context, during which the
    /// filter reads `headers` (include `:status`) as
    /// `HTTP_CALL_RESPONSE_HEADERS` and `body` as `HTTP_CALL_RESPONSE_BODY`.
    pub fn respond_http_call(
        &mut self,
        token: u32,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<()> {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.deliver(
            token,
            CallResponse {
                headers,
                body: body.to_vec(),
                trailers: Vec::new(),
            },
        )
    }

    /// Fails the call `token` (connection failure, timeout, ...): calls
    /// `proxy_on_http_call_response` with no headers, body or trailers, as
    /// Envoy does.
    pub fn fail_http_call(&mut self, token: u32) -> Result<()> {
        self.deliver(
            token,
            CallResponse {
                headers: Vec::new(),
                body: Vec::new(),
                trailers: Vec::new(),
            },
        )
    }

    fn deliver(&mut self, token: u32, response: CallResponse) -> Result<()> {
        self.check_usable()?;
        self.store
            .data_mut()
            .calls
            .remove(&token)
            .ok_or_else(|| anyhow!("no pending HTTP call with token {token}"))?;
        let sizes = (
            response.headers.len() as u32,
            response.body.len() as u32,
            response.trailers.len() as u32,
        );
        self.store.data_mut().call_response = Some(response);
        let result = self.call::<(u32, u32, u32, u32, u32), ()>(
            "proxy_on_http_call_response",
            ROOT,
            (ROOT, token, sizes.0, sizes.1, sizes.2),
        );
        self.store.data_mut().call_response = None;
        result.map(drop)
    }

    // -- observations -------------------------------------------------------

    /// Everything the filter logged (`proxy_log`, and WASI stdout/stderr as
    /// INFO/ERROR), oldest first.
    pub fn logs(&self) -> &[(LogLevel, String)] {
        &self.store.data().logs
    }

    /// Forgets the recorded logs.
    pub fn clear_logs(&mut self) {
        self.store.data_mut().logs.clear();
    }

    /// Current value of the counter or gauge `name` (shared by all hosts on
    /// the same [`SharedData`]).
    pub fn metric(&self, name: &str) -> Option<u64> {
        self.store.data().shared.metric(name)
    }

    // -- internals ----------------------------------------------------------

    fn has_export(&mut self, name: &str) -> bool {
        self.instance.get_func(&mut self.store, name).is_some()
    }

    fn check_usable(&self) -> Result<()> {
        match &self.failed {
            Some(why) => bail!("the VM failed earlier and is unusable: {why}"),
            None => Ok(()),
        }
    }

    /// `proxy_on_done` for `ctx`, then `proxy_on_log`/`proxy_on_delete` if it
    /// completed.
    fn finish_context(&mut self, ctx: u32) -> Result<bool> {
        match self.store.data().phases.get(&ctx) {
            Some(Phase::Active) => {}
            _ => bail!("context {ctx} is already being finished or deleted"),
        }
        let done = self
            .call::<u32, u32>("proxy_on_done", ctx, ctx)?
            .is_none_or(|v| v != 0);
        let phase = self
            .store
            .data_mut()
            .phases
            .entry(ctx)
            .or_insert(Phase::Active);
        if *phase == Phase::Active {
            *phase = if done {
                Phase::DoneRequested
            } else {
                Phase::AwaitingDone
            };
            if done {
                self.store.data_mut().done_requested.push(ctx);
            }
        }
        self.reap()?;
        Ok(done)
    }

    /// Calls `proxy_on_log` and `proxy_on_delete` for contexts that are done.
    fn reap(&mut self) -> Result<()> {
        loop {
            let state = self.store.data_mut();
            // Lowest context id first, as Envoy's map of contexts would have it.
            let Some((i, _)) = state
                .done_requested
                .iter()
                .enumerate()
                .min_by_key(|(_, ctx)| **ctx)
            else {
                return Ok(());
            };
            let ctx = state.done_requested.swap_remove(i);
            if state.phases.get(&ctx) != Some(&Phase::DoneRequested) {
                continue;
            }
            state.phases.insert(ctx, Phase::Deleted);
            // Envoy cancels the calls of a destroyed context.
            state.calls.retain(|_, (_, owner)| *owner != ctx);
            self.call_raw::<u32, ()>("proxy_on_log", ctx, ctx)?;
            self.call_raw::<u32, ()>("proxy_on_delete", ctx, ctx)?;
        }
    }

    /// Calls the export `name` (if the module has it) with `ctx` as the
    /// effective context, then finalizes contexts the filter marked done.
    fn call<P: WasmParams + 'static, R: WasmResults + 'static>(
        &mut self,
        name: &'static str,
        ctx: u32,
        params: P,
    ) -> Result<Option<R>> {
        let result = self.call_raw(name, ctx, params)?;
        self.reap()?;
        Ok(result)
    }

    /// Where the export `name` with the signature `P -> R` sits in `exports` (resolved
    /// on first use).
    fn export<P: WasmParams + 'static, R: WasmResults + 'static>(
        &mut self,
        name: &'static str,
    ) -> Result<usize> {
        let ty = std::any::TypeId::of::<(P, R)>();
        if let Some(i) = self
            .exports
            .iter()
            .position(|(n, t, _)| *n == name && *t == ty)
        {
            return Ok(i);
        }
        let func = match self.instance.get_func(&mut self.store, name) {
            None => None,
            Some(f) => Some(Box::new(
                f.typed::<P, R>(&self.store)
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("export {name} has an unexpected signature"))?,
            ) as Box<dyn std::any::Any + Send + Sync>),
        };
        self.exports.push((name, ty, func));
        Ok(self.exports.len() - 1)
    }

    fn call_raw<P: WasmParams + 'static, R: WasmResults + 'static>(
        &mut self,
        name: &'static str,
        ctx: u32,
        params: P,
    ) -> Result<Option<R>> {
        self.check_usable()?;
        let i = self.export::<P, R>(name)?;
        let Some(func) = self.exports[i]
            .2
            .as_ref()
            .and_then(|f| f.downcast_ref::<TypedFunc<P, R>>())
        else {
            return Ok(None);
        };
        let state = self.store.data_mut();
        state.effective = ctx;
        state.callback = name;
        let logs_before = state.logs.len();
        let result = func.call(&mut self.store, params);
        self.store.data_mut().callback = "";
        match result {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                // The SDK's panic hook logs the panic message at CRITICAL
                // before aborting; surface it.
                let panic = self.store.data().logs[logs_before..]
                    .iter()
                    .rev()
                    .find(|(l, _)| *l == LogLevel::Critical)
                    .map(|(_, m)| format!(" (last critical log: {m})"))
                    .unwrap_or_default();
                let why = format!("{name}({ctx}) trapped{panic}");
                self.failed = Some(why.clone());
                Err(anyhow::Error::from(e).context(why))
            }
        }
    }
}
