//! The plugin engine: one wasmtime `Engine` for the process, an epoch
//! ticker that enforces time limits, and per-message stores.
//!
//! Each message gets its own instance of a plugin, made from the plugin's
//! `InstancePre` in a new `Store` with a memory cap, on the first call the
//! message makes and used for the rest of that message's calls
//! (`LazyInstance`, wrapped as [`PluginInstance`](crate::PluginInstance)). No state leaks from one message to the
//! next, a deadline bounds every call, and a plugin that misbehaves hurts
//! only the message it misbehaved in: after a fault the instance is dropped,
//! and a further call gets a fresh one.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Instance, InstancePre, Linker};
use wasmtime::{
    Config as WasmConfig, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    WasmBacktrace,
};

use crate::bindings::{v0_1_0, v0_2_0};
use crate::cache::CompileCache;
use crate::error::{FaultKind, GuestFault, LoadError, PluginId};
use crate::host_imports::{CallState, GuestLimiter, HostContext};
use crate::meters::Meters;

/// How often the epoch advances. A call's deadline is counted in ticks, so
/// this is the precision of time limits. Measured: a 1 ms tick costs 3 % of
/// a core when idle; 10 ms is finer than any sensible `plugin_time_ms`.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Time a call is given per MiB of message, on top of `time`: a call's
/// arguments are copied into the guest's memory, and its result out of it,
/// inside its deadline, and a large-mode message is megabytes. 20 ms per
/// MiB (50 MB/s in and out) is far below memory speed, so that the guest
/// keeps all of `time` for its own work even on a machine whose cores are
/// busy: without it a 10 MiB mail missed a 100 ms deadline under load
/// (`bench/run large`, issue 11).
const TIME_PER_MIB: Duration = Duration::from_millis(20);

/// Limits of plugin calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Largest linear memory of one instance (the calls of one message),
    /// in bytes.
    pub memory_bytes: usize,
    /// Longest a call may run (given a message of less than a MiB).
    pub time: Duration,
}

impl CallLimits {
    /// The deadline of a call given `bytes` of message: `time` and
    /// [`TIME_PER_MIB`] for each MiB.
    pub fn time_for(&self, bytes: usize) -> Duration {
        let per_mib = TIME_PER_MIB.as_micros() as u64;
        let extra = (bytes as u64).saturating_mul(per_mib) >> 20;
        self.time.saturating_add(Duration::from_micros(extra))
    }
}

/// Advances the engine's epoch from a plain thread; tokio's timers would
/// stall exactly when a plugin hogs a worker.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Plugin calls that can run at once: each takes one slot of the pool until
/// it returns. Calls run on tokio's worker and blocking threads, so this is
/// above any thread count the gateway reaches.
const MAX_CONCURRENT_CALLS: u32 = 1024;

/// Bytes of a linear memory (and of a table) reset in place when its slot
/// is freed, rather than handed back to the kernel. With `PAGEMAP_SCAN`
/// (Linux 6.7) only the pages the instance touched are reset.
///
/// Measured: handing pages back (`madvise`) after each instance cost a
/// TLB shoot-down on every core and a page fault per page on the next
/// instance — a quarter of the gateway's CPU under load. A message of the
/// default plugins dirties well under this.
const KEEP_RESIDENT: usize = 4 << 20;

/// Instances come from a pre-reserved pool: an instance then costs no
/// `mmap` / `munmap` of a fresh linear memory, and the pages it dirtied are
/// reset in place for the next one.
fn pool_config(limits: &CallLimits) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.linear_memory_keep_resident(KEEP_RESIDENT.min(limits.memory_bytes))
        .table_keep_resident(KEEP_RESIDENT)
        .pagemap_scan(wasmtime::Enabled::Auto)
        .total_component_instances(MAX_CONCURRENT_CALLS)
        // A Rust wasip2 component has its module, the WASI adapter and
        // small shims: a handful of core instances, tables and memories.
        .total_core_instances(MAX_CONCURRENT_CALLS * 8)
        .total_memories(MAX_CONCURRENT_CALLS * 2)
        .total_tables(MAX_CONCURRENT_CALLS * 4)
        .max_memory_size(limits.memory_bytes);
    pool
}

/// The process's plugin engine.
pub struct PluginEngine {
    engine: Engine,
    linker: Linker<CallState>,
    /// The memory cap is the pool's, fixed at start; the time is read at
    /// each call (`call_time_us`), so a reload can change it.
    limits: CallLimits,
    call_time_us: std::sync::atomic::AtomicU64,
    cache: Option<CompileCache>,
    context: ArcSwap<HostContext>,
    _ticker: EpochTicker,
}

/// Hex SHA-256 of a component's bytes: its identity in logs and caches.
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PluginEngine {
    /// An engine with these limits, compile cache directory and context.
    pub fn new(
        limits: CallLimits,
        cache_dir: Option<PathBuf>,
        context: HostContext,
    ) -> anyhow::Result<Self> {
        let mut config = WasmConfig::new();
        config.wasm_component_model(true);
        // Measured: a call costs a third without the per-store state of
        // the component-model concurrency machinery, which plugins never use.
        config.concurrency_support(false);
        config.epoch_interruption(true);
        // Reserve only the capped size per memory, not wasmtime's default
        // 4 GiB: the pool holds thousands of memories, and plugins are tiny.
        config.memory_reservation(limits.memory_bytes as u64);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool_config(&limits)));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        // Every contract version's imports: a plugin links with those of the
        // version it was built for (their names carry the version).
        v0_2_0::MapperConverter::add_to_linker::<CallState, HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )?;
        v0_1_0::MapperConverter::add_to_linker::<CallState, HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )?;
        let cache = cache_dir.and_then(|dir| match CompileCache::open(dir.clone(), &engine) {
            Ok(cache) => Some(cache),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "compile cache disabled: {e}");
                None
            }
        });
        let ticker = EpochTicker::start(engine.clone())?;
        Ok(Self {
            engine,
            linker,
            call_time_us: std::sync::atomic::AtomicU64::new(limits.time.as_micros() as u64),
            limits,
            cache,
            context: ArcSwap::from_pointee(context),
            _ticker: ticker,
        })
    }

    /// The limits every call runs under now.
    pub fn limits(&self) -> CallLimits {
        CallLimits {
            memory_bytes: self.limits.memory_bytes,
            time: Duration::from_micros(
                self.call_time_us.load(std::sync::atomic::Ordering::Relaxed),
            ),
        }
    }

    /// A new time limit for the calls that start from now on (a reload of
    /// `limits.plugin_time_ms`; the memory cap needs a restart).
    pub fn set_call_time(&self, time: Duration) {
        self.call_time_us.store(
            time.as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Replaces what plugins read through `config` and `directory`; calls
    /// already running keep the context they started with.
    pub fn set_context(&self, context: HostContext) {
        self.context.store(Arc::new(context));
    }

    /// The current context.
    pub fn context(&self) -> Arc<HostContext> {
        self.context.load_full()
    }

    /// Compiles (or takes from the cache) a component.
    pub fn compile(&self, id: &PluginId, bytes: &[u8]) -> Result<(Component, String), LoadError> {
        let sha256 = content_hash(bytes);
        if let Some(component) = self
            .cache
            .as_ref()
            .and_then(|c| c.get(&self.engine, &sha256))
        {
            return Ok((component, sha256));
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Compile {
            plugin: id.clone(),
            reason: format!("{e:#}"),
        })?;
        if let Some(cache) = &self.cache {
            cache.put(&sha256, &component);
        }
        Ok((component, sha256))
    }

    /// The linker every plugin is linked with (the host imports).
    pub(crate) fn linker(&self) -> &Linker<CallState> {
        &self.linker
    }

    /// The wasmtime engine.
    pub(crate) fn wasm_engine(&self) -> &Engine {
        &self.engine
    }

    /// Epoch ticks of a deadline `time` from now.
    fn deadline_ticks(time: Duration) -> u64 {
        let ticks = time.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64;
        // One tick more: the first may already be nearly over.
        ticks + 1
    }

    /// A new instance of the plugin `id` (linked as `pre`) in a store of its
    /// own, under the limits.
    fn instantiate(&self, id: &PluginId, pre: &InstancePre<CallState>) -> Result<Live, FaultKind> {
        let mut store = Store::new(
            &self.engine,
            CallState {
                plugin: id.name.clone(),
                context: self.context.load_full(),
                limiter: GuestLimiter {
                    cap: self.limits.memory_bytes,
                    exceeded: None,
                },
            },
        );
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(Self::deadline_ticks(self.limits().time));
        store.epoch_deadline_trap();
        match pre.instantiate(&mut store) {
            Ok(instance) => Ok(Live { store, instance }),
            Err(e) => Err(self.classify(&store, e, true, self.limits().time)),
        }
    }

    fn classify(
        &self,
        store: &Store<CallState>,
        error: wasmtime::Error,
        instantiating: bool,
        time: Duration,
    ) -> FaultKind {
        if let Some(asked) = store.data().limiter.exceeded {
            return FaultKind::MemoryLimit {
                asked,
                cap: self.limits.memory_bytes,
            };
        }
        if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            return FaultKind::Deadline(time);
        }
        // The trap says what happened; the plugin's own functions it
        // happened in (when its build kept their names: debug builds do)
        // say where. The rest of the wasm backtrace is for a debugger.
        let mut what = match error.downcast_ref::<Trap>() {
            Some(trap) => trap.to_string(),
            None => format!("{error:#}").replace('\n', " "),
        };
        if let Some(place) = error
            .downcast_ref::<WasmBacktrace>()
            .and_then(plugin_frames)
        {
            what.push_str(" in ");
            what.push_str(&place);
        }
        if instantiating {
            FaultKind::Instantiate(what)
        } else {
            FaultKind::Trap(what)
        }
    }
}

/// The innermost frames of a trap that are the plugin's own code (not the
/// standard library's panic machinery or the bindings' glue), demangled,
/// innermost first; `None` when the component kept no names.
fn plugin_frames(backtrace: &WasmBacktrace) -> Option<String> {
    const NOT_THE_PLUGINS: &[&str] = &[
        "core::",
        "std::",
        "alloc::",
        "__rust",
        "rust_panic",
        "panic_abort",
        "abort",
        "wit_bindgen",
        "__wasm",
        "cabi_",
        "interwork_plugin_sdk::",
        "_start",
        "dlmalloc",
    ];
    let names: Vec<String> = backtrace
        .frames()
        .iter()
        .filter_map(|frame| frame.func_name())
        .map(|name| short_name(&format!("{:#}", rustc_demangle::demangle(name))))
        .filter(|name| {
            !NOT_THE_PLUGINS.iter().any(|p| name.starts_with(p))
                && !name.contains('#')
                && !name.contains("__InterworkPlugin")
        })
        .take(3)
        .collect();
    (!names.is_empty()).then(|| names.join(" < "))
}

/// `<plugin::Type as some::Trait>::method` as `plugin::Type::method`.
fn short_name(name: &str) -> String {
    if let Some(inner) = name.strip_prefix('<')
        && let Some((ty, rest)) = inner.split_once(" as ")
        && let Some((_, method)) = rest.rsplit_once(">::")
    {
        return format!("{ty}::{method}");
    }
    name.to_string()
}

/// A plugin's instance with its store.
struct Live {
    store: Store<CallState>,
    instance: Instance,
}

/// One plugin's instance for the calls of one message: made on the first
/// call, so a message that never reaches the plugin costs nothing, and
/// dropped with the message (its pool slot is then reset for the next).
pub struct LazyInstance<'a> {
    engine: &'a PluginEngine,
    id: &'a PluginId,
    pre: &'a InstancePre<CallState>,
    meters: Option<&'a Meters>,
    live: Option<Live>,
}

impl<'a> LazyInstance<'a> {
    pub(crate) fn new(
        engine: &'a PluginEngine,
        id: &'a PluginId,
        pre: &'a InstancePre<CallState>,
        meters: Option<&'a Meters>,
    ) -> Self {
        Self {
            engine,
            id,
            pre,
            meters,
            live: None,
        }
    }

    /// Runs `call`, given `bytes` of message, on the instance under a
    /// deadline of its own ([`CallLimits::time_for`]). A fault drops the
    /// instance: whatever state the guest was left in is never entered
    /// again.
    pub(crate) fn call<R>(
        &mut self,
        bytes: usize,
        call: impl FnOnce(&mut Store<CallState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, GuestFault> {
        let fault = |kind| GuestFault {
            plugin: self.id.clone(),
            kind,
        };
        let live = match &mut self.live {
            Some(live) => live,
            empty => empty.insert(self.engine.instantiate(self.id, self.pre).map_err(fault)?),
        };
        let time = self.engine.limits().time_for(bytes);
        live.store
            .set_epoch_deadline(PluginEngine::deadline_ticks(time));
        let started = std::time::Instant::now();
        let called = call(&mut live.store, &live.instance);
        if let Some(meters) = self.meters {
            meters.call(started.elapsed(), called.is_err());
        }
        match called {
            Ok(value) => Ok(value),
            Err(e) => {
                let kind = self.engine.classify(&live.store, e, false, time);
                self.live = None;
                Err(fault(kind))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trait_methods_are_named_by_their_type() {
        assert_eq!(
            short_name("<my_plan::Plan as interwork_plugin_sdk::mapping::Guest>::email_of_im"),
            "my_plan::Plan::email_of_im"
        );
        assert_eq!(
            short_name("my_plan::rules::lookup"),
            "my_plan::rules::lookup"
        );
    }

    #[test]
    fn a_call_given_megabytes_has_the_time_to_copy_them() {
        let limits = CallLimits {
            memory_bytes: 64 << 20,
            time: Duration::from_millis(100),
        };
        assert_eq!(limits.time_for(0), Duration::from_millis(100));
        // An instant message: a microsecond more, nothing to speak of.
        assert!(limits.time_for(1024) < Duration::from_micros(100_020));
        assert_eq!(limits.time_for(10 << 20), Duration::from_millis(300));
        assert_eq!(limits.time_for(25 << 20), Duration::from_millis(600));
        assert!(limits.time_for(usize::MAX) > Duration::from_secs(3600));
    }
}
