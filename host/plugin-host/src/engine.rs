//! The plugin engine: one wasmtime `Engine` for the process, an epoch
//! ticker that enforces time limits, and per-call stores.
//!
//! Every call instantiates the plugin afresh from its `InstancePre` in a new
//! `Store` with a memory cap and an epoch deadline: no state leaks from one
//! message to the next, and a plugin that misbehaves hurts only the call it
//! misbehaved in.

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
};

use crate::bindings::MapperConverter;
use crate::cache::CompileCache;
use crate::error::{FaultKind, GuestFault, LoadError, PluginId};
use crate::host_imports::{CallState, GuestLimiter, HostContext};

/// How often the epoch advances. A call's deadline is counted in ticks, so
/// this is the precision of time limits.
const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Limits of one plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Largest linear memory of one call, in bytes.
    pub memory_bytes: usize,
    /// Longest a call may run.
    pub time: Duration,
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

/// Instances come from a pre-reserved pool: a call then costs no `mmap` /
/// `munmap` of a fresh linear memory, and memory contents are reset
/// copy-on-write.
fn pool_config(limits: &CallLimits) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(MAX_CONCURRENT_CALLS)
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
    limits: CallLimits,
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
        MapperConverter::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s)?;
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
            limits,
            cache,
            context: ArcSwap::from_pointee(context),
            _ticker: ticker,
        })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> CallLimits {
        self.limits
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

    /// Runs `call` on a fresh instance of the plugin `id` (linked as `pre`)
    /// under the call limits.
    pub(crate) fn call<R>(
        &self,
        id: &PluginId,
        pre: &InstancePre<CallState>,
        call: impl FnOnce(&mut Store<CallState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, GuestFault> {
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
        let ticks = self
            .limits
            .time
            .as_millis()
            .div_ceil(EPOCH_TICK.as_millis()) as u64;
        // One tick more: the first may already be nearly over.
        store.set_epoch_deadline(ticks + 1);
        store.epoch_deadline_trap();
        let fault = |kind| GuestFault {
            plugin: id.clone(),
            kind,
        };
        let instance = pre
            .instantiate(&mut store)
            .map_err(|e| fault(self.classify(&store, e, true)))?;
        call(&mut store, &instance).map_err(|e| fault(self.classify(&store, e, false)))
    }

    fn classify(
        &self,
        store: &Store<CallState>,
        error: wasmtime::Error,
        instantiating: bool,
    ) -> FaultKind {
        if let Some(asked) = store.data().limiter.exceeded {
            return FaultKind::MemoryLimit {
                asked,
                cap: self.limits.memory_bytes,
            };
        }
        if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            return FaultKind::Deadline(self.limits.time);
        }
        // The trap itself says what happened; the wasm backtrace around it
        // is for a debugger, not for a log line.
        let what = match error.downcast_ref::<Trap>() {
            Some(trap) => trap.to_string(),
            None => format!("{error:#}").replace('\n', " "),
        };
        if instantiating {
            FaultKind::Instantiate(what)
        } else {
            FaultKind::Trap(what)
        }
    }
}
