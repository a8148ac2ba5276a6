//! Helpers shared by the benchmarks: latency statistics, a CPython JSON-lines worker to
//! measure beside the engine in the same run, and the workloads.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Quantiles of a set of samples.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub mean: Duration,
}

impl Stats {
    pub fn of(mut samples: Vec<Duration>) -> Self {
        assert!(!samples.is_empty(), "no samples");
        samples.sort();
        let q = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
        let total: Duration = samples.iter().sum();
        Self {
            n: samples.len(),
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
            mean: total / samples.len() as u32,
        }
    }
}

/// Formats a duration in the unit that suits it.
pub fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// A `python3` process running `cpython_worker.py`.
#[derive(Debug)]
pub struct CPython {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: u64,
    known: std::collections::HashSet<String>,
}

impl CPython {
    pub fn start() -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/cpython_worker.py");
        // Bundled macros import the bundled utilities and `bds_markdown` (the oracle's twin).
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut child = Command::new("python3")
            .args(["-S", script])
            .env(
                "PYTHONPATH",
                format!("{root}/default-scripts:{root}/fixtures"),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is on PATH");
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Self {
            child,
            stdin,
            stdout,
            next: 0,
            known: Default::default(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One call; returns the reply object.
    pub fn call(&mut self, name: &str, source: &str, context: &Value) -> Value {
        self.next += 1;
        // The context as JSON text, read by the worker inside its in-process time.
        let context_json = serde_json::to_string(context).expect("serializable");
        let mut req = json!({"id": self.next, "script": name, "context_json": context_json});
        if self.known.insert(name.to_owned()) {
            req["source"] = json!(source);
        }
        let mut line = serde_json::to_string(&req).expect("serializable");
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .expect("python3 alive");
        self.stdin.flush().expect("python3 alive");
        let mut reply = String::new();
        if self.stdout.buffer().is_empty() {
            use std::os::fd::AsRawFd;
            bds_ipc::wait_readable(
                self.stdout.get_ref().as_raw_fd(),
                Duration::from_micros(300),
            )
            .expect("poll");
        }
        self.stdout.read_line(&mut reply).expect("python3 answers");
        serde_json::from_str(&reply).expect("python3 answers JSON")
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident set size of a process, from /proc (Linux).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A post body with `n` headings, for the table-of-contents workload.
pub fn post_with_headings(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let level = [2, 3, 3, 4][i % 4];
        s.push_str(&format!(
            "<h{level}>Section {i}: caf\u{e9} &amp; more</h{level}>\n<p>Paragraph {i}.</p>\n"
        ));
    }
    s
}

/// Times `f` `n` times after `warmup` untimed runs.
pub fn sample(warmup: usize, n: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..warmup {
        f();
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f();
        v.push(t.elapsed());
    }
    Stats::of(v)
}

/// A synthetic site of `n` posts (~300 bytes of metadata each: slug, title, url, tags, date,
/// summary), as `site.json` would hold it.
pub fn synthetic_site(n: usize) -> Value {
    let posts: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "slug": format!("post-{i}"),
                "title": format!("Post number {i}: notes on building things"),
                "url": format!("/posts/post-{i}/"),
                "tags": ["notes", format!("tag-{}", i % 37), format!("series-{}", i % 11)],
                "date": format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
                "summary": format!("A short summary of post {i}, long enough to look like the real thing on an index page."),
            })
        })
        .collect();
    json!({"title": "A synthetic blog", "baseURL": "https://example.invalid/", "posts": posts})
}

/// The body of post `i` of a synthetic site of `n` posts: ~20 calls of bundled macros (`ref`
/// to other posts among them), and `abbr` in every tenth post.
pub fn synthetic_post(i: usize, n: usize) -> String {
    let mut s = format!("# Post {i}\n\nSome text before the macros.\n\n");
    for k in 0..6 {
        let target = (i * 7 + k * 13 + 1) % n;
        s.push_str(&format!(
            "See {{{{< ref post-{target} >}}}}, press {{{{< kbd Ctrl+{k} >}}}}, status {{{{< badge \"v{k}\" info >}}}}.\n\n"
        ));
    }
    s.push_str("{{< reading-time >}}\n");
    if i.is_multiple_of(10) {
        s.push_str("{{< abbr HTML \"HyperText Markup Language\" >}}\n");
    }
    s
}

/// A post of `calls` calls: a third `ref`, a third `kbd`, a third `badge`.
pub fn post_of_calls(calls: usize, n: usize) -> String {
    let mut s = String::new();
    for k in 0..calls {
        match k % 3 {
            0 => s.push_str(&format!("{{{{< ref post-{} >}}}} ", (k * 31) % n)),
            1 => s.push_str(&format!("{{{{< kbd Ctrl+{k} >}}}} ")),
            _ => s.push_str(&format!("{{{{< badge \"b{k}\" >}}}} ")),
        }
    }
    s
}

/// This process's peak resident set size (VmHWM), from /proc (Linux).
pub fn peak_rss_self() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The one-line macro of the warm-call rows.
pub const ONE_LINE: &str = "def render(c): return {'html': '<kbd>' + c['args'][0] + '</kbd>'}\n";

/// A bundled script (`kbd.py`), linked with the bundled utilities it may import (as a project
/// runs it).
pub fn bundled_script(name: &str) -> bds_engine::Script {
    let dir = format!("{}/../default-scripts", env!("CARGO_MANIFEST_DIR"));
    let script = bds_engine::Script::from_file(std::path::Path::new(&format!("{dir}/{name}")))
        .expect("default script");
    bds_engine::link(
        script,
        &bds_engine::utilities_in(std::path::Path::new(&dir)),
    )
}

/// The project in `dir` (a `scripts/` folder is made, and the bundled scripts seeded), on a
/// pool of `workers`.
pub fn open_project(dir: &std::path::Path, workers: usize) -> bds_engine::Project {
    std::fs::create_dir_all(dir.join("scripts")).expect("scripts/");
    bds_engine::Project::open(dir, bds_engine::PoolConfig::default().workers(workers))
        .expect("the project opens (run `make build` first)")
}

/// Every bundled macro with its first golden case (utilities and transforms left out).
pub fn bundled_macros() -> Vec<(String, bds_engine::Script, Value)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/cases");
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .expect("fixtures/cases")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let slug = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        let script = bundled_script(&format!("{slug}.py"));
        if !script.source().contains("kind: macro") {
            continue;
        }
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .expect("cases")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        cases.sort();
        let Some(first) = cases.first() else { continue };
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(first).expect("case")).expect("JSON");
        out.push((slug, script, case["context"].clone()));
    }
    out
}

/// A one-worker pool of `guest` (built from `path` when given), its compiled guest cached in
/// `cache`.
pub fn guest_config(
    guest: bds_engine::Guest,
    path: Option<&str>,
    cache: &std::path::Path,
) -> bds_engine::PoolConfig {
    let mut config = bds_engine::PoolConfig::default()
        .workers(1)
        .cache_dir(cache)
        .guest(guest);
    if let Some(p) = path {
        config = config.guest_path(p);
    }
    config
}

/// The geometric mean of ratios.
pub fn geomean(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}
