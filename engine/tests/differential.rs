//! Differential testing against CPython: for every bundled script, random contexts (seeded,
//! bounded in count and time) go to the engine and to CPython (`fixtures/oracle.py`); the first
//! difference is shrunk to a minimal context and reported.
//!
//! Contexts are built from the script's golden cases: their parameter names, post and site,
//! with random values of every JSON type (Unicode, HTML specials, numbers at the edges).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use bds_engine::{CallOptions, Pool, PoolConfig, Script};
use serde_json::{Map, Value, json};

const PER_SCRIPT: usize = 40;
const BUDGET: Duration = Duration::from_secs(120);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Oracle {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Oracle {
    fn start() -> Self {
        let mut child = Command::new("python3")
            .arg(root().join("fixtures/oracle.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 (CPython is the oracle)");
        Self {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            _child: child,
        }
    }

    fn run(&mut self, script: &Path, context: &Value) -> Value {
        let line = json!({"script": script, "entry": "render", "context": context}).to_string();
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let mut reply = String::new();
        self.stdout.read_line(&mut reply).unwrap();
        common::canonical(oracle_answer(serde_json::from_str(&reply).unwrap()))
    }
}

/// The engine's answer in the oracle's shape: on success with what the call read of `post`
/// and `site`, which must be what CPython's run of the same tracking code recorded.
fn engine(pool: &Pool, script: &Script, context: &Value) -> Value {
    common::canonical(engine_answer(pool, script, context))
}

fn engine_answer(pool: &Pool, script: &Script, context: &Value) -> Value {
    match common::call_as_rendered(pool, script, context, &CallOptions::default()) {
        Ok(out) => {
            let reads: Vec<Value> = out.reads.iter().map(|r| json!([r.root, r.key])).collect();
            json!({"ok": true, "result": Value::Object(out.value), "reads": reads})
        }
        Err(e) => json!({"ok": false, "exc_type": e.exc_type, "message": e.message}),
    }
}

/// The oracle's answer, with `reads` kept only where the engine reports them (on success).
fn oracle_answer(mut v: Value) -> Value {
    if v["ok"] == false
        && let Some(m) = v.as_object_mut()
    {
        m.remove("reads");
    }
    v
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "",
    " ",
    "a",
    "note",
    "tip",
    "warning",
    "x<y>&\"'z",
    "café",
    "日本語",
    "😀",
    "Ctrl+C",
    "dQw4w9WgXcQ",
    "https://youtu.be/dQw4w9WgXcQ?t=3",
    "https://example.com/a?utm_source=x&b=2",
    "2024-02-29",
    "2024-13-01",
    "%Y-%m-%d",
    "<script>alert(1)</script>",
    "a,b\n1,2",
    "  padded  ",
    "hello-world",
    "\u{301}e",
    "-",
];

fn value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 1 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 1),
        2 => json!(*rng.pick(&[0i64, 1, -1, 7, 42, 250, 100_000, i64::MAX])),
        3 => json!(*rng.pick(&[0.5f64, -2.25, 1e-9, 3.0])),
        4 | 5 => json!(rng.pick(WORDS)),
        6 => Value::Array((0..rng.below(3)).map(|_| value(rng, depth + 1)).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(3) {
                m.insert(rng.pick(WORDS).to_string(), value(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// A random context in the shape the script's golden cases use.
fn context(rng: &mut Rng, seeds: &[Value], params: &[String]) -> Value {
    let mut c = rng.pick(seeds).clone();
    let Some(obj) = c.as_object_mut() else {
        return c;
    };
    if obj.contains_key("params") {
        let mut p = Map::new();
        for name in params {
            if rng.below(2) == 0 {
                p.insert(name.clone(), value(rng, 0));
            }
        }
        obj.insert("params".into(), Value::Object(p));
        let args = (0..rng.below(3)).map(|_| value(rng, 1)).collect();
        obj.insert("args".into(), Value::Array(args));
        obj.insert(
            "inner".into(),
            if rng.below(2) == 0 {
                Value::Null
            } else {
                json!(rng.pick(WORDS))
            },
        );
    } else if let Some(post) = obj.get_mut("post").and_then(Value::as_object_mut) {
        let keys: Vec<String> = post.keys().cloned().collect();
        for _ in 0..1 + rng.below(2) {
            let k = rng.pick(&keys).clone();
            post.insert(k, value(rng, 1));
        }
    }
    c
}

/// Smaller variants of a context: drop a key or element, shorten a string.
fn shrink(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            for k in m.keys() {
                if !["abi", "params", "args", "inner", "post", "site"].contains(&k.as_str()) {
                    let mut smaller = m.clone();
                    smaller.remove(k);
                    out.push(Value::Object(smaller));
                }
            }
            for (k, x) in m {
                for s in shrink(x) {
                    let mut smaller = m.clone();
                    smaller.insert(k.clone(), s);
                    out.push(Value::Object(smaller));
                }
            }
        }
        Value::Array(a) => {
            for i in 0..a.len() {
                let mut smaller = a.clone();
                smaller.remove(i);
                out.push(Value::Array(smaller));
            }
            for (i, x) in a.iter().enumerate() {
                for s in shrink(x) {
                    let mut smaller = a.clone();
                    smaller[i] = s;
                    out.push(Value::Array(smaller));
                }
            }
        }
        Value::String(s) if s.chars().count() > 1 => {
            let half: String = s.chars().take(s.chars().count() / 2).collect();
            out.push(Value::String(half));
        }
        _ => {}
    }
    out
}

#[test]
fn the_engine_agrees_with_cpython_on_random_contexts() {
    let pool = Pool::new(PoolConfig::default().workers(1)).unwrap();
    let mut oracle = Oracle::start();
    let started = Instant::now();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut compared = 0;
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root().join("default-scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    scripts.sort();
    for path in scripts {
        let slug = path.file_stem().unwrap().to_string_lossy().into_owned();
        if common::is_utility(&std::fs::read_to_string(&path).unwrap()) {
            continue; // called through the macros that import it (and by its golden cases)
        }
        let script = common::bundled_script(&path);
        let cases_dir = root().join("fixtures/cases").join(&slug);
        let seeds: Vec<Value> = std::fs::read_dir(&cases_dir)
            .unwrap()
            .map(|e| {
                serde_json::from_slice::<Value>(&std::fs::read(e.unwrap().path()).unwrap()).unwrap()
                    ["context"]
                    .clone()
            })
            .collect();
        let mut params: Vec<String> = seeds
            .iter()
            .filter_map(|c| c["params"].as_object())
            .flat_map(|m| m.keys().cloned())
            .collect();
        params.sort();
        params.dedup();
        for _ in 0..PER_SCRIPT {
            if started.elapsed() > BUDGET {
                break;
            }
            let ctx = context(&mut rng, &seeds, &params);
            let (e, c) = (engine(&pool, &script, &ctx), oracle.run(&path, &ctx));
            compared += 1;
            if e == c {
                continue;
            }
            // Shrink while the two still disagree.
            let mut smallest = ctx;
            let mut progress = true;
            while progress && started.elapsed() < BUDGET * 2 {
                progress = false;
                for candidate in shrink(&smallest) {
                    if engine(&pool, &script, &candidate) != oracle.run(&path, &candidate) {
                        smallest = candidate;
                        progress = true;
                        break;
                    }
                }
            }
            panic!(
                "{slug}: the engine and CPython differ on\n{}\nengine:  {}\ncpython: {}",
                serde_json::to_string_pretty(&smallest).unwrap(),
                engine(&pool, &script, &smallest),
                oracle.run(&path, &smallest)
            );
        }
    }
    assert!(
        compared >= 100,
        "only {compared} contexts compared within the time budget"
    );
}

#[test]
fn shrinking_makes_progress() {
    let v = json!({"abi": 1, "params": {"a": "abcd", "b": [1, 2]}, "x": 1});
    let s = shrink(&v);
    assert!(s.contains(&json!({"abi": 1, "params": {"a": "abcd", "b": [1, 2]}})));
    assert!(s.contains(&json!({"abi": 1, "params": {"a": "ab", "b": [1, 2]}, "x": 1})));
    assert!(s.contains(&json!({"abi": 1, "params": {"a": "abcd", "b": [2]}, "x": 1})));
}
