//! `Engine.open`'s work, on its own thread: options checked, workers started, the store opened
//! (or created), the watcher and the event forwarder started. A failure stops what had started.

use std::path::Path;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bds_engine::{self as engine, CallOptions, Limits, Pool, PoolConfig, Project};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;

use super::jobs::{State, lock};
use super::options::{MAX_DEADLINE_MS, MAX_MEMORY_MIB, MAX_WORKERS, within};
use super::{Engine, Listener, Listeners};
use crate::error::{ErrorCode, Failure};
use crate::lane::Lane;
use crate::types::{ChangeEvent, OpenOptions};

impl Engine {
    pub(super) fn open_blocking(dir: &Path, o: &OpenOptions) -> Result<Engine, Failure> {
        if dir.as_os_str().is_empty() {
            return Err(Failure::invalid("the project folder is empty"));
        }
        let workers = match o.workers {
            Some(n) => within("workers", n, 1, MAX_WORKERS)? as usize,
            None => PoolConfig::default().worker_count(),
        };
        let mut config = PoolConfig::default().workers(workers);
        if let Some(p) = crate::locate::worker(o.worker_path.as_deref()) {
            config = config.worker_path(p);
        }
        if let Some(g) = o.guest {
            config = config.guest(match g {
                crate::types::Guest::RustPython => bds_engine::Guest::RustPython,
                crate::types::Guest::CPython => bds_engine::Guest::CPython,
            });
        }
        if let Some(p) = &o.guest_path {
            config = config.guest_path(p);
        }
        if let Some(p) = &o.cache_dir {
            config = config.cache_dir(p);
        }
        if let Some(n) = o.max_live_instances {
            config = config.max_live_instances(within("maxLiveInstances", n, 1, 1024)? as usize);
        }
        if let Some(n) = o.memory_budget_mib {
            config = config.memory_budget_mib(within("memoryBudgetMib", n, 16, 1 << 20)? as usize);
        }
        let mut limits = Limits::macro_call();
        if let Some(ms) = o.macro_deadline_ms {
            let ms = within("macroDeadlineMs", ms, 1, MAX_DEADLINE_MS)?;
            limits = limits.with_deadline(Duration::from_millis(u64::from(ms)));
        }
        if let Some(mib) = o.macro_memory_mib {
            limits = limits.with_memory_mib(u64::from(within(
                "macroMemoryMib",
                mib,
                1,
                MAX_MEMORY_MIB,
            )?));
        }
        let debounce = within(
            "watchDebounceMs",
            o.watch_debounce_ms.unwrap_or(100),
            0,
            60_000,
        )?;

        let pool = Pool::new(config)?;
        let checker: Arc<dyn engine::Checker> = Arc::new(pool.clone());
        let opened = if o.create.unwrap_or(false) {
            engine::ScriptStore::init(dir, Some(checker))
        } else {
            engine::ScriptStore::open(dir, Some(checker))
        };
        let (store, report) = match opened {
            Ok(x) => x,
            Err(e) => {
                pool.close();
                return Err(e.into());
            }
        };
        let events = store.subscribe();
        let watcher = if o.watch.unwrap_or(true) {
            match store.watch(Duration::from_millis(u64::from(debounce))) {
                Ok(w) => Some(w),
                Err(e) => {
                    pool.close();
                    return Err(e.into());
                }
            }
        } else {
            None
        };
        let project = Project::new(store, pool)
            .with_macro_options(CallOptions::default().with_limits(limits));
        let lane_err = |e: std::io::Error| {
            Failure::new(ErrorCode::Internal, format!("cannot start a thread: {e}"))
        };
        let state = State {
            calls: Lane::new("bds-calls", workers + 1).map_err(lane_err)?,
            io: Lane::new("bds-io", 2).map_err(lane_err)?,
            project,
            watcher: Mutex::new(watcher),
            gate: RwLock::new(false),
            last_render: Mutex::new(Vec::new()),
        };
        let listeners: Listeners = Arc::default();
        let forward = listeners.clone();
        std::thread::Builder::new()
            .name("bds-events".into())
            .spawn(move || {
                // Ends when the store is gone (engine closed and dropped).
                for event in events {
                    let event = ChangeEvent::from(event);
                    let targets: Vec<Arc<Listener>> =
                        lock(&forward).iter().map(|(_, l)| l.clone()).collect();
                    for l in targets {
                        l.call(event.clone(), ThreadsafeFunctionCallMode::NonBlocking);
                    }
                }
            })
            .map_err(lane_err)?;
        Ok(Engine {
            state: Arc::new(Mutex::new(Some(Arc::new(state)))),
            shut_down: Arc::default(),
            listeners,
            next_listener: AtomicU32::new(1),
            root: dir.display().to_string(),
            report: report.into(),
        })
    }
}
