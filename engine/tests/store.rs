//! The script store: files and index in step, live, recoverable, never losing the user's files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use bds_engine::{
    DefaultAction, DefaultScript, ListFilter, Origin, Pool, PoolConfig, ScriptEntry, ScriptKind,
    ScriptStatus, ScriptStore, StoreError, StoreEvent,
};

const MACRO: &str = "# ---\n# title: Keyboard\n# kind: macro\n# version: 2\n# ---\ndef render(c):\n    return {'html': '<kbd>'}\n";

fn project() -> (tempfile::TempDir, ScriptStore) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    let (store, _) = ScriptStore::open_with_defaults(dir.path(), None, &[]).unwrap();
    (dir, store)
}

fn file(dir: &Path, slug: &str) -> PathBuf {
    dir.join("scripts").join(format!("{slug}.py"))
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Collects events until `want` have arrived or `within` has passed.
fn events(rx: &Receiver<StoreEvent>, want: usize, within: Duration) -> Vec<StoreEvent> {
    let until = Instant::now() + within;
    let mut out = Vec::new();
    while out.len() < want {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(e) => out.push(e),
            Err(_) => break,
        }
    }
    out
}

fn without_ids(list: Vec<ScriptEntry>) -> Vec<ScriptEntry> {
    list.into_iter()
        .map(|e| ScriptEntry { id: 0, ..e })
        .collect()
}

#[test]
fn crud_round_trips_between_files_and_index() {
    let (dir, store) = project();
    let rx = store.subscribe();
    let e = store.create("kbd", MACRO).unwrap();
    assert_eq!(
        std::fs::read_to_string(file(dir.path(), "kbd")).unwrap(),
        MACRO
    );
    assert_eq!(
        (
            e.slug.as_str(),
            e.title.as_str(),
            e.kind,
            e.entrypoint.as_str(),
            e.enabled,
            e.version
        ),
        ("kbd", "Keyboard", ScriptKind::Macro, "render", true, 2)
    );
    assert_eq!(e.content_hash, sha(MACRO.as_bytes()));
    assert_eq!(e.status, ScriptStatus::Unchecked);
    assert_eq!(store.get("kbd").unwrap(), e);
    assert_eq!(store.read("kbd").unwrap(), MACRO);
    assert!(matches!(store.create("kbd", "x"), Err(StoreError::AlreadyExists(s)) if s == "kbd"));

    // Update from the hash the editor loaded; a stale hash is a conflict and changes nothing.
    let v2 = MACRO.replace("<kbd>", "<kbd class=k>");
    let e2 = store.update("kbd", &v2, Some(&e.content_hash)).unwrap();
    assert_eq!((e2.id, e2.content_hash.clone()), (e.id, sha(v2.as_bytes())));
    match store.update("kbd", "lost", Some(&e.content_hash)) {
        Err(StoreError::Conflict { slug, current_hash }) => assert_eq!(
            (slug.as_str(), current_hash),
            ("kbd", e2.content_hash.clone())
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.read("kbd").unwrap(), v2);

    // Disable rewrites just the header line.
    let off = store.set_enabled("kbd", false).unwrap();
    assert!(!off.enabled);
    assert_eq!(
        store.read("kbd").unwrap(),
        v2.replace("# version: 2\n", "# version: 2\n# enabled: false\n")
    );
    assert_eq!(
        store
            .list(ListFilter {
                enabled: Some(true),
                ..Default::default()
            })
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store
            .list(ListFilter {
                kind: Some(ScriptKind::Macro),
                ..Default::default()
            })
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list(ListFilter {
                kind: Some(ScriptKind::Transform),
                ..Default::default()
            })
            .unwrap(),
        vec![]
    );

    // Rename keeps the id and never replaces a file.
    store.create("other", "x = 1\n").unwrap();
    assert!(matches!(
        store.rename("kbd", "other"),
        Err(StoreError::AlreadyExists(_))
    ));
    let renamed = store.rename("kbd", "keys").unwrap();
    assert_eq!(renamed.id, e.id);
    assert!(!file(dir.path(), "kbd").exists());
    assert!(file(dir.path(), "keys").exists());

    // Delete moves the file to the trash, where the user can get it back.
    let trashed = store.delete("keys").unwrap();
    assert!(trashed.starts_with(dir.path().join(".bds/trash")));
    assert_eq!(
        std::fs::read_to_string(&trashed).unwrap(),
        store_text_after_disable(&v2)
    );
    assert!(matches!(store.get("keys"), Err(StoreError::NotFound(_))));
    assert!(matches!(store.delete("keys"), Err(StoreError::NotFound(_))));

    let app = |slug: &str| (slug.to_owned(), Origin::App);
    let got: Vec<_> = events(&rx, 7, Duration::from_secs(1));
    assert_eq!(
        got,
        vec![
            StoreEvent::Added {
                slug: app("kbd").0,
                origin: Origin::App
            },
            StoreEvent::Changed {
                slug: app("kbd").0,
                origin: Origin::App
            },
            StoreEvent::Changed {
                slug: app("kbd").0,
                origin: Origin::App
            },
            StoreEvent::Added {
                slug: app("other").0,
                origin: Origin::App
            },
            StoreEvent::Renamed {
                from: "kbd".into(),
                to: "keys".into(),
                origin: Origin::App
            },
            StoreEvent::Removed {
                slug: app("keys").0,
                origin: Origin::App
            },
        ]
    );
}

fn store_text_after_disable(v2: &str) -> String {
    v2.replace("# version: 2\n", "# version: 2\n# enabled: false\n")
}

#[test]
fn names_that_escape_scripts_are_refused_and_touch_nothing() {
    let (dir, store) = project();
    for name in [
        "../evil",
        "/tmp/evil",
        "a/b",
        "..",
        "Evil",
        "e\u{301}vil",
        "evil\u{0}",
        "nul\u{200d}",
        // Device names on Windows, whatever the machine the project is on now.
        "con",
        "nul",
        "com1",
        "lpt9",
    ] {
        assert!(
            matches!(store.create(name, "x"), Err(StoreError::InvalidName { .. })),
            "{name:?}"
        );
        assert!(
            matches!(store.read(name), Err(StoreError::InvalidName { .. })),
            "{name:?}"
        );
    }
    store.create("fine", "x = 1\n").unwrap();
    // Only the exact device names: longer names that start like them are fine.
    store.create("console", "x = 1\n").unwrap();
    store.create("com10", "x = 1\n").unwrap();
    assert!(matches!(
        store.rename("fine", "../fine"),
        Err(StoreError::InvalidName { .. })
    ));
    assert!(!dir.path().join("evil.py").exists());
    assert!(!dir.path().join("fine.py").exists());
    let names: BTreeSet<_> = std::fs::read_dir(dir.path().join("scripts"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["com10.py".into(), "console.py".into(), "fine.py".into()])
    );
}

#[test]
fn odd_files_get_a_clear_status_and_are_left_untouched() {
    let (dir, store) = project();
    let scripts = dir.path().join("scripts");
    let latin1 = b"# caf\xe9\ndef render(c):\n    return {}\n".to_vec();
    let huge = vec![b'#'; 2 << 20];
    let broken = b"# ---\n# kind: widget\n# ---\ndef render(c):\n    return {}\n".to_vec();
    let files: [(&str, &[u8]); 4] = [
        ("latin1", &latin1),
        ("empty", b""),
        ("huge", &huge),
        ("broken", &broken),
    ];
    for (slug, bytes) in files {
        std::fs::write(scripts.join(format!("{slug}.py")), bytes).unwrap();
    }
    std::fs::write(scripts.join("Not A Slug.py"), "x = 1\n").unwrap();
    std::fs::write(scripts.join("notes.txt"), "not a script").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", scripts.join("passwd.py")).unwrap();
    let report = store.sync().unwrap();
    assert_eq!(report.added, vec!["broken", "empty", "huge", "latin1"]);
    let mut ignored: Vec<_> = report.ignored.iter().map(|(n, _)| n.as_str()).collect();
    ignored.sort();
    #[cfg(unix)]
    assert_eq!(ignored, vec!["Not A Slug.py", "passwd.py"]);
    let status = |slug: &str| {
        let e = store.get(slug).unwrap();
        (e.status, e.error, e.error_line)
    };
    assert_eq!(
        status("latin1"),
        (
            ScriptStatus::NotUtf8,
            Some("the file is not UTF-8 (invalid byte at offset 5)".into()),
            Some(1)
        )
    );
    assert_eq!(status("empty"), (ScriptStatus::Unchecked, None, None));
    assert_eq!(
        status("huge"),
        (
            ScriptStatus::TooLarge,
            Some(format!(
                "the file is {} bytes, over the 1048576-byte limit",
                2 << 20
            )),
            None
        )
    );
    assert_eq!(
        status("broken"),
        (
            ScriptStatus::InvalidHeader,
            Some("kind must be macro, utility or transform, not `widget`".into()),
            Some(2)
        )
    );
    assert!(matches!(
        store.read("latin1"),
        Err(StoreError::NotUtf8 { at: 5, .. })
    ));
    for (slug, bytes) in files {
        assert_eq!(
            std::fs::read(scripts.join(format!("{slug}.py"))).unwrap(),
            bytes,
            "{slug} was modified"
        );
    }
    assert!(matches!(
        store.create("big", &"#".repeat(2 << 20)),
        Err(StoreError::TooLarge { .. })
    ));
}

#[test]
fn compile_errors_are_saved_and_indexed_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let pool = Pool::new(PoolConfig::default().workers(1)).unwrap();
    let (store, _) = ScriptStore::init(dir.path(), Some(Arc::new(pool))).unwrap();
    let bad = "def render(c):\n    return {'a': 1\n";
    let e = store.create("bad", bad).unwrap();
    assert_eq!(
        std::fs::read_to_string(file(dir.path(), "bad")).unwrap(),
        bad
    );
    assert_eq!(
        (e.status, e.error.as_deref(), e.error_line),
        (
            ScriptStatus::CompileError,
            Some("SyntaxError: '{' was never closed"),
            Some(2)
        )
    );
    let good = store
        .update("bad", "def render(c):\n    return {'a': 1}\n", None)
        .unwrap();
    assert_eq!((good.status, good.error), (ScriptStatus::Ok, None));
    // The bundled defaults compile.
    for d in store
        .list(ListFilter::default())
        .unwrap()
        .iter()
        .filter(|e| e.slug != "bad")
    {
        assert_eq!(d.status, ScriptStatus::Ok, "{}: {:?}", d.slug, d.error);
    }
}

#[test]
fn external_changes_are_seen_live() {
    let (dir, store) = project();
    let rx = store.subscribe();
    let _watch = store.watch(Duration::from_millis(50)).unwrap();
    let scripts = dir.path().join("scripts");
    let ext = |slug: &str| StoreEvent::Added {
        slug: slug.into(),
        origin: Origin::External,
    };

    std::fs::write(scripts.join("a.py"), "x = 1\n").unwrap();
    assert_eq!(events(&rx, 1, Duration::from_secs(5)), vec![ext("a")]);
    std::fs::write(scripts.join("a.py"), "x = 2\n").unwrap();
    assert_eq!(
        events(&rx, 1, Duration::from_secs(5)),
        vec![StoreEvent::Changed {
            slug: "a".into(),
            origin: Origin::External
        }]
    );
    std::fs::rename(scripts.join("a.py"), scripts.join("b.py")).unwrap();
    assert_eq!(
        events(&rx, 1, Duration::from_secs(5)),
        vec![StoreEvent::Renamed {
            from: "a".into(),
            to: "b".into(),
            origin: Origin::External
        }]
    );
    assert_eq!(store.read("b").unwrap(), "x = 2\n");
    std::fs::remove_file(scripts.join("b.py")).unwrap();
    assert_eq!(
        events(&rx, 1, Duration::from_secs(5)),
        vec![StoreEvent::Removed {
            slug: "b".into(),
            origin: Origin::External
        }]
    );

    // A burst of 100 new files, as a `git checkout` would make.
    for i in 0..100 {
        std::fs::write(
            scripts.join(format!("burst-{i:03}.py")),
            format!("n = {i}\n"),
        )
        .unwrap();
    }
    let got = events(&rx, 100, Duration::from_secs(10));
    let slugs: BTreeSet<_> = got
        .iter()
        .map(|e| match e {
            StoreEvent::Added {
                slug,
                origin: Origin::External,
            } => slug.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(slugs.len(), 100);
    assert_eq!(store.list(ListFilter::default()).unwrap().len(), 100);

    // The app's own writes are not reported again as external ones.
    store.create("mine", "x = 1\n").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        events(&rx, 10, Duration::from_millis(100)),
        vec![StoreEvent::Added {
            slug: "mine".into(),
            origin: Origin::App
        }]
    );
}

#[test]
fn a_missing_or_corrupt_index_is_rebuilt_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = ScriptStore::init(dir.path(), None).unwrap();
    store.create("keys", MACRO).unwrap();
    store
        .create("broken", "# ---\n# enabled: perhaps\n# ---\n")
        .unwrap();
    let before = without_ids(store.list(ListFilter::default()).unwrap());
    drop(store);
    let db = dir.path().join(".bds/index.sqlite");

    std::fs::remove_file(&db).unwrap();
    let _ = std::fs::remove_file(dir.path().join(".bds/index.sqlite-wal"));
    let _ = std::fs::remove_file(dir.path().join(".bds/index.sqlite-shm"));
    let (store, report) = ScriptStore::open(dir.path(), None).unwrap();
    assert!(report.defaults.is_empty(), "{:?}", report.defaults);
    assert_eq!(
        without_ids(store.list(ListFilter::default()).unwrap()),
        before
    );
    drop(store);

    std::fs::write(
        &db,
        b"this is not a database, it is garbage, and it is long enough to look like a header",
    )
    .unwrap();
    let _ = std::fs::remove_file(dir.path().join(".bds/index.sqlite-wal"));
    let (store, report) = ScriptStore::open(dir.path(), None).unwrap();
    assert!(report.rebuilt_index);
    assert_eq!(
        without_ids(store.list(ListFilter::default()).unwrap()),
        before
    );
    let aside: Vec<_> = std::fs::read_dir(dir.path().join(".bds"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("index.sqlite.corrupt-"))
        .collect();
    assert_eq!(
        aside.len(),
        1,
        "the corrupt index is kept aside for inspection"
    );
}

#[test]
fn a_crash_between_file_and_index_is_reconciled_on_the_next_open() {
    let (dir, store) = project();
    store.create("kept", "x = 1\n").unwrap();
    drop(store);
    // The app wrote these files and died before touching the index.
    std::fs::write(file(dir.path(), "late"), "y = 2\n").unwrap();
    std::fs::write(file(dir.path(), "kept"), "x = 'edited'\n").unwrap();
    let (store, report) = ScriptStore::open_with_defaults(dir.path(), None, &[]).unwrap();
    assert_eq!(
        (report.sync.added, report.sync.changed),
        (vec!["late".to_owned()], vec!["kept".to_owned()])
    );
    assert_eq!(
        store.get("kept").unwrap().content_hash,
        sha(b"x = 'edited'\n")
    );
    // The index never wins over a file.
    assert_eq!(
        std::fs::read_to_string(file(dir.path(), "kept")).unwrap(),
        "x = 'edited'\n"
    );
}

#[test]
fn two_openers_of_one_project_do_not_corrupt_it() {
    let (dir, a) = project();
    let (b, _) = ScriptStore::open_with_defaults(dir.path(), None, &[]).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| (0..40).for_each(|i| drop(a.create(&format!("a{i}"), "x = 1\n").unwrap())));
        s.spawn(|| (0..40).for_each(|i| drop(b.create(&format!("b{i}"), "x = 2\n").unwrap())));
    });
    a.sync().unwrap();
    b.sync().unwrap();
    assert_eq!(a.list(ListFilter::default()).unwrap().len(), 80);
    assert_eq!(
        a.list(ListFilter::default()).unwrap(),
        b.list(ListFilter::default()).unwrap()
    );
    let conn = rusqlite::Connection::open(dir.path().join(".bds/index.sqlite")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

fn default(slug: &str, version: i64) -> DefaultScript {
    DefaultScript {
        slug: slug.into(),
        source: format!(
            "# ---\n# version: {version}\n# ---\ndef render(c):\n    return {{'v': {version}}}\n"
        ),
        version,
    }
}

#[test]
fn default_scripts_are_seeded_upgraded_and_never_clobbered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    let open = |defaults: &[DefaultScript]| {
        ScriptStore::open_with_defaults(dir.path(), None, defaults)
            .unwrap()
            .1
            .defaults
    };
    let v1 = [
        default("plain", 1),
        default("edited", 1),
        default("gone", 1),
    ];
    assert_eq!(
        open(&v1),
        vec![
            DefaultAction::Seeded {
                slug: "plain".into(),
                version: 1
            },
            DefaultAction::Seeded {
                slug: "edited".into(),
                version: 1
            },
            DefaultAction::Seeded {
                slug: "gone".into(),
                version: 1
            },
        ]
    );
    assert_eq!(open(&v1), vec![], "seeding twice does nothing");
    let edited = "# ---\n# version: 1\n# ---\ndef render(c):\n    return {'v': 'mine'}\n";
    std::fs::write(file(dir.path(), "edited"), edited).unwrap();
    std::fs::remove_file(file(dir.path(), "gone")).unwrap();

    let v2 = [
        default("plain", 2),
        default("edited", 2),
        default("gone", 2),
        default("new", 1),
    ];
    assert_eq!(
        open(&v2),
        vec![
            DefaultAction::Upgraded {
                slug: "plain".into(),
                from: 1,
                to: 2
            },
            DefaultAction::UpdateAvailable {
                slug: "edited".into(),
                installed: 1,
                bundled: 2
            },
            DefaultAction::DeletedByUser {
                slug: "gone".into()
            },
            DefaultAction::Seeded {
                slug: "new".into(),
                version: 1
            },
        ]
    );
    assert_eq!(
        std::fs::read_to_string(file(dir.path(), "plain")).unwrap(),
        v2[0].source
    );
    assert_eq!(
        std::fs::read_to_string(file(dir.path(), "edited")).unwrap(),
        edited
    );
    assert!(!file(dir.path(), "gone").exists());

    // Losing the index forgets nothing about what was seeded.
    std::fs::remove_file(dir.path().join(".bds/index.sqlite")).unwrap();
    let again = open(&v2);
    assert_eq!(
        again,
        vec![
            DefaultAction::UpdateAvailable {
                slug: "edited".into(),
                installed: 1,
                bundled: 2
            },
            DefaultAction::DeletedByUser {
                slug: "gone".into()
            },
        ]
    );
}

#[test]
fn bds_init_seeds_the_bundled_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let (store, report) = ScriptStore::init(dir.path(), None).unwrap();
    let bundled: Vec<_> = bds_engine::bundled_defaults()
        .into_iter()
        .map(|d| d.slug)
        .collect();
    assert!(bundled.len() >= 3);
    let seeded: Vec<_> = report
        .defaults
        .iter()
        .map(|a| match a {
            DefaultAction::Seeded { slug, .. } => slug.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seeded, bundled);
    let listed: Vec<_> = store
        .list(ListFilter::default())
        .unwrap()
        .into_iter()
        .map(|e| e.slug)
        .collect();
    assert_eq!(listed, bundled);
}

/// A check that could not run (the worker died, the engine is closing) says nothing about the
/// script: the entry is `unchecked`, not `compile-error`, and the next sync checks it again.
#[test]
fn a_check_that_could_not_run_leaves_the_script_unchecked_until_the_next_sync() {
    use std::sync::atomic::{AtomicBool, Ordering};
    struct Flaky(AtomicBool);
    impl bds_engine::Checker for Flaky {
        fn check(&self, script: &bds_engine::Script) -> Result<(), bds_engine::ScriptError> {
            if self.0.load(Ordering::SeqCst) {
                return Ok(());
            }
            let pool = bds_engine::Pool::new(bds_engine::PoolConfig::default().workers(1)).unwrap();
            pool.close();
            pool.check(script)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    let checker = Arc::new(Flaky(AtomicBool::new(false)));
    let (store, _) =
        ScriptStore::open_with_defaults(dir.path(), Some(checker.clone()), &[]).unwrap();
    let e = store
        .create("fine", "def render(c):\n    return {}\n")
        .unwrap();
    assert_eq!(e.status, ScriptStatus::Unchecked);
    assert_eq!(
        e.error.as_deref(),
        Some("not checked: the engine is closed")
    );
    checker.0.store(true, Ordering::SeqCst);
    let report = store.sync().unwrap();
    assert_eq!(report.changed, vec!["fine".to_owned()]);
    let e = store.get("fine").unwrap();
    assert_eq!((e.status, e.error), (ScriptStatus::Ok, None));
}

/// A save, and a sync, compile before they lock the index: while a compile waits (for a
/// worker busy with a long run, say), listing and reading go on.
#[test]
fn saves_and_syncs_do_not_hold_the_index_while_a_compile_waits() {
    use std::sync::Mutex;
    use std::sync::mpsc::{Sender, channel};
    struct Gate {
        entered: Mutex<Sender<()>>,
        release: Mutex<Receiver<()>>,
    }
    impl bds_engine::Checker for Gate {
        fn check(&self, _: &bds_engine::Script) -> Result<(), bds_engine::ScriptError> {
            self.entered.lock().unwrap().send(()).unwrap();
            self.release.lock().unwrap().recv().unwrap();
            Ok(())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    let (entered_tx, entered) = channel();
    let (release, release_rx) = channel();
    let gate = Arc::new(Gate {
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    });
    let (store, _) = ScriptStore::open_with_defaults(dir.path(), Some(gate), &[]).unwrap();
    let saver = {
        let store = store.clone();
        std::thread::spawn(move || store.create("slow", "def render(c):\n    return {}\n"))
    };
    entered.recv_timeout(Duration::from_secs(10)).unwrap();
    // The compile is waiting. A listing from another thread must still answer.
    let (listed_tx, listed) = channel();
    let lister = store.clone();
    std::thread::spawn(move || listed_tx.send(lister.list(ListFilter::default()).map(|l| l.len())));
    let answer = listed.recv_timeout(Duration::from_secs(10));
    release.send(()).unwrap();
    assert_eq!(
        answer.expect("the listing waited for the compile").unwrap(),
        0
    );
    let entry = saver.join().unwrap().unwrap();
    assert_eq!(entry.status, ScriptStatus::Ok);

    // The same for a file changed outside the app, found by a sync (what the watcher runs).
    std::fs::write(
        dir.path().join("scripts/outside.py"),
        "def render(c):\n    return {}\n",
    )
    .unwrap();
    let syncer = {
        let store = store.clone();
        std::thread::spawn(move || store.sync())
    };
    entered.recv_timeout(Duration::from_secs(10)).unwrap();
    let (listed_tx, listed) = channel();
    let lister = store.clone();
    std::thread::spawn(move || listed_tx.send(lister.list(ListFilter::default()).map(|l| l.len())));
    let answer = listed.recv_timeout(Duration::from_secs(10));
    release.send(()).unwrap();
    assert_eq!(
        answer
            .expect("the listing waited for the sync's compile")
            .unwrap(),
        1
    );
    assert_eq!(
        syncer.join().unwrap().unwrap().added,
        vec!["outside".to_owned()]
    );
    assert_eq!(store.get("outside").unwrap().status, ScriptStatus::Ok);
}
