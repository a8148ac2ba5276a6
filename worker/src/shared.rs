//! Shared values: `post` and `site` travel once per content hash, not once per call.
//!
//! The engine sends each value with [`bds_ipc::Request::Share`]; [`SharedCache`] keeps them, as
//! JSON text, least recently used dropped first once their bytes pass the budget. A call names
//! the values it uses ([`bds_ipc::SharedRef`]); the worker hands exactly those to the guest for
//! that call, through two imports of the module `bds` (defined by [`define`]):
//!
//! - `shared_len(hash_ptr) -> i64`: the byte length of the value whose 32-byte hash is at
//!   `hash_ptr`, or -1 when this call does not refer to it;
//! - `shared_read(hash_ptr, dst, len) -> i32`: copies it to `dst` (0 on success).
//!
//! The guest asks only when a script first touches the value (lazy), and converts it to Python
//! once per instance. A script can reach nothing but the values of its current call.

use std::collections::HashMap;
use std::sync::Arc;

use bds_ipc::Hash;
use wasmtime::{Caller, Extern, Linker};

use crate::guest::HostCtx;

/// The import module the guest's shared-data functions live in.
pub(crate) const MODULE: &str = "bds";

/// A shared value handed to a call: its hash and JSON text.
pub(crate) type Resolved = (Hash, Arc<[u8]>);

/// The worker's shared values, LRU by bytes.
#[derive(Debug)]
pub(crate) struct SharedCache {
    values: HashMap<Hash, (Arc<[u8]>, u64)>,
    bytes: usize,
    budget: usize,
    tick: u64,
}

impl SharedCache {
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            values: HashMap::new(),
            bytes: 0,
            budget,
            tick: 0,
        }
    }

    /// Keeps `json` under `hash`, dropping the least recently used others to stay within the
    /// budget (the new value is kept even when it alone is over it).
    pub(crate) fn insert(&mut self, hash: Hash, json: Vec<u8>) {
        self.tick += 1;
        if let Some((old, _)) = self.values.remove(&hash) {
            self.bytes -= old.len();
        }
        self.bytes += json.len();
        self.values.insert(hash, (json.into(), self.tick));
        while self.bytes > self.budget && self.values.len() > 1 {
            let Some(oldest) = self
                .values
                .iter()
                .filter(|(h, _)| **h != hash)
                .min_by_key(|(_, (_, t))| *t)
                .map(|(h, _)| *h)
            else {
                break;
            };
            if let Some((v, _)) = self.values.remove(&oldest) {
                self.bytes -= v.len();
            }
        }
    }

    /// The values `refs` name, or the first hash this worker does not hold.
    pub(crate) fn resolve(&mut self, refs: &[bds_ipc::SharedRef]) -> Result<Vec<Resolved>, Hash> {
        self.tick += 1;
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            match self.values.get_mut(&r.hash) {
                Some((v, t)) => {
                    *t = self.tick;
                    out.push((r.hash, v.clone()));
                }
                None => return Err(r.hash),
            }
        }
        Ok(out)
    }

    pub(crate) fn clear(&mut self) {
        self.values.clear();
        self.bytes = 0;
    }
}

fn read_hash(caller: &mut Caller<'_, HostCtx>, ptr: i32) -> Option<Hash> {
    let Some(Extern::Memory(mem)) = caller.get_export("memory") else {
        return None;
    };
    let mut h = [0u8; 32];
    mem.read(&*caller, ptr as u32 as usize, &mut h).ok()?;
    Some(h)
}

fn lookup(caller: &Caller<'_, HostCtx>, hash: &Hash) -> Option<Arc<[u8]>> {
    caller
        .data()
        .shared
        .iter()
        .find(|(h, _)| h == hash)
        .map(|(_, v)| v.clone())
}

/// Defines the `bds` imports on `linker`.
pub(crate) fn define(linker: &mut Linker<HostCtx>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        "shared_len",
        |mut c: Caller<'_, HostCtx>, hash_ptr: i32| -> i64 {
            let Some(hash) = read_hash(&mut c, hash_ptr) else {
                return -1;
            };
            lookup(&c, &hash).map_or(-1, |v| v.len() as i64)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "shared_read",
        |mut c: Caller<'_, HostCtx>, hash_ptr: i32, dst: i32, len: i32| -> i32 {
            let Some(hash) = read_hash(&mut c, hash_ptr) else {
                return 1;
            };
            let Some(value) = lookup(&c, &hash) else {
                return 1;
            };
            if value.len() != len as u32 as usize {
                return 1;
            }
            let Some(Extern::Memory(mem)) = c.get_export("memory") else {
                return 1;
            };
            match mem.write(&mut c, dst as u32 as usize, &value) {
                Ok(()) => 0,
                Err(_) => 1,
            }
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(h: u8) -> bds_ipc::SharedRef {
        bds_ipc::SharedRef {
            name: "site".into(),
            hash: [h; 32],
        }
    }

    #[test]
    fn least_recently_used_values_go_first_once_over_budget() {
        let mut c = SharedCache::new(10);
        c.insert([1; 32], vec![0; 4]);
        c.insert([2; 32], vec![0; 4]);
        assert!(c.resolve(&[r(1)]).is_ok(), "1 is now the most recent");
        c.insert([3; 32], vec![0; 4]);
        assert_eq!(c.resolve(&[r(2)]).unwrap_err(), [2; 32]);
        assert!(c.resolve(&[r(1), r(3)]).is_ok());
        assert_eq!(c.bytes, 8);
    }

    #[test]
    fn a_value_over_the_budget_alone_is_still_kept() {
        let mut c = SharedCache::new(10);
        c.insert([1; 32], vec![0; 4]);
        c.insert([2; 32], vec![0; 40]);
        assert!(c.resolve(&[r(1)]).is_err());
        assert_eq!(c.resolve(&[r(2)]).unwrap()[0].1.len(), 40);
        c.insert([2; 32], vec![0; 2]);
        assert_eq!(c.bytes, 2, "replacing a value counts its new size only");
    }
}
