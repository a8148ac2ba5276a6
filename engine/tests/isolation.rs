//! Cross-call poisoning: script A changes what it can reach (stdlib functions and classes,
//! builtins, sys.modules, its interpreter's internals); script B, run next on the same worker,
//! still sees the pristine interpreter.

mod common;

use bds_engine::{CallOptions, Pool};
use common::*;
use serde_json::json;

/// The victim: uses everything the attackers poison.
const VICTIM: &str = r#"import html, string, json, collections, builtins, re
def render(c):
    print('victim speaks')
    return {
        'escape': html.escape('<a>'),
        'template': string.Template('$x!').substitute(x='hi'),
        'json': json.dumps({'a': [1, 2]}),
        'len': len('abc'),
        'counter': collections.Counter('aab').most_common(1)[0][0],
        'sorted': sorted([3, 1, 2]),
        'match': bool(re.match(r'\d+', '42')),
        'str_upper': 'a'.upper(),
    }
"#;

fn victim_expected() -> serde_json::Value {
    json!({
        "escape": "&lt;a&gt;",
        "template": "hi!",
        "json": "{\"a\": [1, 2]}",
        "len": 3,
        "counter": "a",
        "sorted": [1, 2, 3],
        "match": true,
        "str_upper": "A",
    })
}

fn assert_victim_unharmed(pool: &Pool) {
    let out = pool
        .call(
            &script("victim.py", VICTIM),
            &ctx(),
            &CallOptions::default(),
        )
        .unwrap();
    assert_eq!(serde_json::Value::Object(out.value), victim_expected());
    assert_eq!(out.stdout, "victim speaks\n");
}

fn poison_then_check(attack: &str) {
    let pool = pool(1);
    // The victim runs before and after, on the one worker, so both share a process.
    assert_victim_unharmed(&pool);
    let out = pool.call(
        &script("attacker.py", attack),
        &ctx(),
        &CallOptions::default(),
    );
    assert!(out.is_ok(), "the attack script itself should run: {out:?}");
    assert_victim_unharmed(&pool);
}

#[test]
fn reassigning_a_stdlib_function() {
    poison_then_check(
        "import html\ndef render(c):\n    html.escape = lambda s, quote=True: 'PWNED'\n    return {}\n",
    );
}

#[test]
fn patching_stdlib_classes() {
    poison_then_check(
        "import string, json, collections\ndef render(c):\n    string.Template.delimiter = '%'\n    json.JSONEncoder.item_separator = 'PWNED'\n    collections.Counter.most_common = lambda self, n=None: [('PWNED', 1)]\n    return {}\n",
    );
}

#[test]
fn editing_builtins() {
    poison_then_check(
        "import builtins\ndef render(c):\n    builtins.len = lambda x: 42\n    builtins.sorted = lambda x: ['PWNED']\n    builtins.print = lambda *a, **k: None\n    return {}\n",
    );
}

#[test]
fn replacing_modules_in_sys_modules() {
    poison_then_check(
        "import sys, types\ndef render(c):\n    fake = types.ModuleType('html')\n    fake.escape = lambda s, quote=True: 'PWNED'\n    sys.modules['html'] = fake\n    sys.modules['re'] = fake\n    return {}\n",
    );
}

#[test]
fn hijacking_the_capture_and_stdout() {
    poison_then_check(
        "import sys\ndef render(c):\n    class Evil:\n        def write(self, s): return 0\n        def flush(self): pass\n    sys.stdout = Evil()\n    sys.__stdout__ = Evil()\n    return {}\n",
    );
}

#[test]
fn walking_frames_into_the_bootstrap() {
    poison_then_check(
        "import sys\ndef render(c):\n    f = sys._getframe()\n    while f is not None:\n        g = f.f_globals\n        for k in list(g):\n            if k in ('begin', 'collect', 'describe', 'load', 'Capture'):\n                g[k] = None\n        f = f.f_back\n    return {}\n",
    );
}

/// As in CPython, `sys.stdout` is one object for the life of the script: a reference taken
/// when the script loaded writes into the output of the call that uses it.
#[test]
fn a_stdout_kept_from_the_load_writes_into_the_current_call() {
    let pool = pool(1);
    let s = script(
        "keep.py",
        "import sys\nout = sys.stdout\nn = [0]\ndef render(c):\n    n[0] += 1\n    out.write('call %d\\n' % n[0])\n    print('printed', file=sys.stderr)\n    return {}\n",
    );
    for n in 1..=2 {
        let o = pool.call(&s, &json!({}), &CallOptions::default()).unwrap();
        assert_eq!(o.stdout, format!("call {n}\nprinted\n"));
    }
}

#[test]
fn a_script_keeps_its_own_module_state_between_calls() {
    let pool = pool(1);
    let s = script(
        "memo.py",
        "seen = []\ndef render(c):\n    seen.append(c['params']['x'])\n    return {'seen': seen}\n",
    );
    let call = |x: i64| {
        pool.call(&s, &json!({"params": {"x": x}}), &CallOptions::default())
            .unwrap()
            .value["seen"]
            .clone()
    };
    assert_eq!(call(1), json!([1]));
    assert_eq!(call(2), json!([1, 2]));
    // A strict call runs on a brand-new guest: it sees none of that state, and leaves none.
    let fresh = pool
        .call(
            &s,
            &json!({"params": {"x": 3}}),
            &CallOptions::default().fresh(true),
        )
        .unwrap();
    assert_eq!(fresh.value["seen"], json!([3]));
    assert_eq!(call(4), json!([1, 2, 4]));
}

#[test]
fn instances_evicted_from_the_lru_come_back_clean() {
    let pool = Pool::new(
        bds_engine::PoolConfig::default()
            .workers(1)
            .max_live_instances(2),
    )
    .unwrap();
    let scripts: Vec<_> = (0..5)
        .map(|i| script(&format!("s{i}.py"), &format!("n = 0\ndef render(c):\n    global n\n    n += 1\n    return {{'id': {i}, 'n': n}}\n")))
        .collect();
    for round in 1..=2 {
        for (i, s) in scripts.iter().enumerate() {
            let v = pool.call(s, &ctx(), &CallOptions::default()).unwrap().value;
            assert_eq!(v["id"], i);
            // Only two instances stay live, so every script was evicted and reloaded.
            assert_eq!(v["n"], 1, "round {round}");
        }
    }
}
