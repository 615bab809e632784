//! Test fixture for proxy-wasm-testhost. Behaviour (driven by request
//! headers and configuration) is described in ../../host.rs.

use std::time::{Duration, UNIX_EPOCH};

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| Box::<Root>::default());
}}

fn info(msg: &str) {
    hostcalls::log(LogLevel::Info, msg).unwrap();
}

#[derive(Default, Clone, Copy)]
struct Metrics {
    requests: u32,
    ticks: u32,
    header_count: u32,
}

#[derive(Default)]
struct Root {
    config: String,
    metrics: Metrics,
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        _token: u32,
        num_headers: usize,
        body_size: usize,
        _: usize,
    ) {
        // A call dispatched from on_tick ("tick-call" config): cache the body.
        if num_headers == 0 {
            info("tick call failed");
            return;
        }
        let body = self
            .get_http_call_response_body(0, body_size)
            .unwrap_or_default();
        self.set_shared_data("tick-call-body", Some(&body), None)
            .unwrap();
    }

    fn on_done(&mut self) -> bool {
        info("root on_done");
        true
    }
}

impl RootContext for Root {
    fn on_vm_start(&mut self, _size: usize) -> bool {
        let vm_config = self.get_vm_configuration().unwrap_or_default();
        let vm_config = String::from_utf8(vm_config).unwrap();
        info(&format!("vm config: {vm_config}"));
        if vm_config == "fail" {
            return false;
        }
        self.set_tick_period(Duration::from_secs(5));
        self.metrics = Metrics {
            requests: hostcalls::define_metric(MetricType::Counter, "fixture.requests").unwrap(),
            ticks: hostcalls::define_metric(MetricType::Counter, "fixture.ticks").unwrap(),
            header_count: hostcalls::define_metric(MetricType::Histogram, "fixture.header_count")
                .unwrap(),
        };
        let gauge = hostcalls::define_metric(MetricType::Gauge, "fixture.gauge").unwrap();
        hostcalls::record_metric(gauge, 10).unwrap();
        hostcalls::increment_metric(gauge, -3).unwrap();
        // Counters cannot go down: the host must say BAD_ARGUMENT.
        let err = hostcalls::increment_metric(self.metrics.requests, -1).unwrap_err();
        info(&format!("decrement counter: {err:?}"));
        true
    }

    fn on_configure(&mut self, _size: usize) -> bool {
        let config = self.get_plugin_configuration().unwrap_or_default();
        self.config = String::from_utf8(config).unwrap();
        info(&format!("plugin config: {}", self.config));
        self.config != "reject"
    }

    fn on_tick(&mut self) {
        hostcalls::increment_metric(self.metrics.ticks, 1).unwrap();
        // Read-modify-write with compare-and-swap.
        let (value, cas) = self.get_shared_data("ticks");
        let n = value.map_or(0, |v| String::from_utf8(v).unwrap().parse::<u32>().unwrap());
        self.set_shared_data("ticks", Some((n + 1).to_string().as_bytes()), cas)
            .unwrap();
        if self.config == "tick-call" {
            self.dispatch_http_call(
                "jwks",
                vec![
                    (":method", "GET"),
                    (":path", "/keys"),
                    (":authority", "login"),
                ],
                None,
                vec![],
                Duration::from_secs(1),
            )
            .unwrap();
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http {
            context_id,
            config: self.config.clone(),
            metrics: self.metrics,
            delay_done: false,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Http {
    context_id: u32,
    config: String,
    metrics: Metrics,
    delay_done: bool,
}

mod raw {
    #[link(wasm_import_module = "env")]
    extern "C" {
        #[link_name = "proxy_log"]
        pub fn log(level: u32, ptr: *const u8, len: usize) -> u32;
        #[link_name = "proxy_set_header_map_pairs"]
        pub fn set_header_map_pairs(map: u32, ptr: *const u8, len: usize) -> u32;
        #[link_name = "proxy_http_call"]
        pub fn http_call(
            up: *const u8,
            ul: usize,
            hp: *const u8,
            hl: usize,
            bp: *const u8,
            bl: usize,
            tp: *const u8,
            tl: usize,
            timeout: u32,
            token: *mut u32,
        ) -> u32;
    }
}

impl Context for Http {
    fn on_http_call_response(
        &mut self,
        _token: u32,
        num_headers: usize,
        body_size: usize,
        _: usize,
    ) {
        if num_headers == 0 {
            self.send_http_response(503, vec![], Some(b"call failed"));
            return;
        }
        let status = self
            .get_http_call_response_header(":status")
            .unwrap_or_default();
        let body = self
            .get_http_call_response_body(0, body_size)
            .unwrap_or_default();
        if status == "200" {
            self.add_http_request_header("x-call-status", &status);
            self.add_http_request_header("x-call-body", &String::from_utf8(body).unwrap());
            self.resume_http_request();
        } else {
            self.send_http_response(401, vec![("x-upstream-status", &status)], None);
        }
        if self.delay_done {
            self.done();
        }
    }

    fn on_done(&mut self) -> bool {
        !self.delay_done
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, num_headers: usize, _end_of_stream: bool) -> Action {
        hostcalls::increment_metric(self.metrics.requests, 1).unwrap();
        hostcalls::record_metric(self.metrics.header_count, num_headers as u64).unwrap();
        let header = |name| self.get_http_request_header(name);

        if header("x-panic").is_some() {
            panic!("boom in request {}", self.context_id);
        }
        if header("x-deny").is_some() {
            self.send_http_response(403, vec![("x-denied-by", "fixture")], Some(b"denied"));
            return Action::Pause;
        }
        if header("x-bad-pointer").is_some() {
            // Bad pointers and malformed maps must yield a status, not a crash.
            let log = unsafe { raw::log(2, 0xffff_fff0usize as *const u8, 100) };
            let map = [5u8, 0, 0, 0, 1];
            let set = unsafe { raw::set_header_map_pairs(0, map.as_ptr(), map.len()) };
            let mut token = 0;
            let call = unsafe {
                raw::http_call(
                    b"c".as_ptr(),
                    1,
                    [].as_ptr(),
                    0,
                    [].as_ptr(),
                    0,
                    [].as_ptr(),
                    0,
                    1,
                    &mut token,
                )
            };
            self.add_http_request_header("x-bad-status", &format!("{log},{set},{call}"));
        }
        if header("x-reset").is_some() {
            self.reset_http_request();
            return Action::Pause;
        }
        if let Some(value) = header("x-shared-set") {
            self.set_shared_data("shared-key", Some(value.as_bytes()), None)
                .unwrap();
        }
        if header("x-shared-get").is_some() {
            let (value, _) = self.get_shared_data("shared-key");
            let value = value.map_or("none".to_string(), |v| String::from_utf8(v).unwrap());
            self.add_http_request_header("x-shared-value", &value);
        }

        self.remove_http_request_header("x-remove-me");
        self.set_http_request_header("x-replace", Some("replaced"));
        self.add_http_request_header("x-plugin-config", &self.config);
        let nanos = self
            .get_current_time()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        self.add_http_request_header("x-time", &nanos.to_string());
        if let Some(node) = self.get_property(vec!["node", "id"]) {
            self.add_http_request_header("x-node-id", &String::from_utf8(node).unwrap());
        }

        if let Some(token) = header("x-call") {
            self.delay_done = header("x-delay-done").is_some();
            let result = self.dispatch_http_call(
                "auth",
                vec![
                    (":method", "POST"),
                    (":path", "/check"),
                    (":authority", "auth.local"),
                    ("x-token", &token),
                ],
                Some(b"check"),
                vec![],
                Duration::from_millis(1500),
            );
            return match result {
                Ok(_) => Action::Pause,
                Err(status) => {
                    let body = format!("dispatch failed: {status:?}");
                    self.send_http_response(500, vec![], Some(body.as_bytes()));
                    Action::Pause
                }
            };
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        info(&format!("on_log {}", self.context_id));
    }
}
