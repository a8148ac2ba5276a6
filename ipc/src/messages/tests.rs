use super::*;
use crate::codec::{DecodeError, Writer};

fn limits() -> WireLimits {
    WireLimits {
        deadline_us: 250_000,
        memory_bytes: 128 << 20,
        max_result_bytes: 1 << 20,
        max_stdout_bytes: 64 << 10,
        max_depth: 64,
    }
}

fn call() -> CallSpec {
    CallSpec {
        hash: [7; 32],
        entry: "render".into(),
        context: br#"{"abi":1}"#.to_vec(),
        limits: limits(),
        clock: ClockSpec {
            unix_nanos: 1_700_000_000_000_000_000,
            seed: 42,
            real_time: false,
        },
        fresh: true,
        shared: vec![
            SharedRef {
                name: "post".into(),
                hash: [3; 32],
            },
            SharedRef {
                name: "site".into(),
                hash: [4; 32],
            },
        ],
    }
}

fn outcome(ok: bool) -> Outcome {
    Outcome {
        guest: GuestOutcome {
            result: if ok {
                Ok(r#"{"html":"é"}"#.as_bytes().to_vec())
            } else {
                Err(ErrorInfo {
                    kind: ErrorKind::Runtime,
                    exc_type: "ValueError".into(),
                    message: "bad".into(),
                    line: 3,
                    column: 0,
                    traceback: vec![TraceFrame {
                        file: "a.py".into(),
                        line: 3,
                        function: "render".into(),
                    }],
                })
            },
            stdout: "hi\n".into(),
            stdout_truncated: !ok,
            reads: if ok {
                vec![
                    Read {
                        root: "post".into(),
                        key: Some("title".into()),
                    },
                    Read {
                        root: "site".into(),
                        key: None,
                    },
                ]
            } else {
                Vec::new()
            },
            warnings: if ok {
                vec![Warning {
                    category: "UserWarning".into(),
                    message: "careful".into(),
                    file: "a.py".into(),
                    line: 4,
                }]
            } else {
                Vec::new()
            },
        },
        duration_us: 12,
    }
}

#[test]
fn every_request_round_trips() {
    let all = [
        Request::Load {
            id: 1,
            hash: [1; 32],
            name: "toc.py".into(),
            source: "def render(c): return {}".into(),
            modules: vec![ModuleSource {
                name: "helpers".into(),
                source: "X = 1".into(),
            }],
            compile_only: true,
            limits: limits(),
        },
        Request::Call {
            id: 2,
            call: call(),
        },
        Request::Batch {
            id: 3,
            calls: vec![call(), call()],
        },
        Request::Reset { id: 4 },
        Request::Shutdown { id: 5 },
        Request::Share {
            id: 6,
            hash: [5; 32],
            json: br#"{"posts":[]}"#.to_vec(),
        },
    ];
    for req in all {
        assert_eq!(Request::decode(&req.encode()).unwrap(), req);
        assert_eq!(req.id(), Request::decode(&req.encode()).unwrap().id());
    }
}

#[test]
fn every_reply_round_trips() {
    let all = [
        Reply::Ready {
            protocol: PROTOCOL_VERSION,
            worker_version: "0.1.0".into(),
            guest_hash: [9; 32],
            init_us: 1234,
        },
        Reply::Loaded {
            id: 1,
            outcome: outcome(false),
        },
        Reply::Called {
            id: 2,
            outcome: outcome(true),
        },
        Reply::Batch {
            id: 3,
            outcomes: vec![outcome(true), outcome(false)],
        },
        Reply::Done { id: 4 },
        Reply::Fatal {
            id: 5,
            message: "no".into(),
        },
    ];
    for reply in all {
        assert_eq!(Reply::decode(&reply.encode()).unwrap(), reply);
    }
}

#[test]
fn guest_messages_round_trip() {
    let load = GuestLoad {
        name: "a.py".into(),
        source: "x = 1".into(),
        modules: vec![
            ModuleSource {
                name: "a".into(),
                source: String::new(),
            },
            ModuleSource {
                name: "b".into(),
                source: "import a".into(),
            },
        ],
        compile_only: false,
        max_stdout_bytes: 10,
    };
    assert_eq!(GuestLoad::decode(&load.encode()).unwrap(), load);
    let c = GuestCall {
        entry: "render".into(),
        context: b"{}".to_vec(),
        max_result_bytes: 1,
        max_stdout_bytes: 2,
        max_depth: 3,
        seed: 4,
        shared: call().shared,
    };
    assert_eq!(GuestCall::decode(&c.encode()).unwrap(), c);
    let o = outcome(false).guest;
    assert_eq!(GuestOutcome::decode(&o.encode()).unwrap(), o);
}

#[test]
fn every_truncation_of_a_reply_is_an_error_not_a_panic() {
    let bytes = Reply::Batch {
        id: 3,
        outcomes: vec![outcome(true), outcome(false)],
    }
    .encode();
    for cut in 0..bytes.len() {
        assert!(Reply::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(Reply::decode(&long), Err(DecodeError::Trailing(1)));
}

#[test]
fn hostile_counts_and_tags_are_refused() {
    // A batch claiming four billion outcomes in a 13-byte payload.
    let mut w = Writer::default();
    w.u8(4).u64(1).u32(u32::MAX);
    assert!(matches!(
        Reply::decode(&w.buf),
        Err(DecodeError::BadCount { .. })
    ));
    assert_eq!(
        Reply::decode(&[99]),
        Err(DecodeError::UnknownTag {
            what: "reply",
            tag: 99
        })
    );
    // Invalid UTF-8 in a Fatal message.
    let mut w = Writer::default();
    w.u8(6).u64(1).bytes(&[0xff, 0xfe]);
    assert!(matches!(
        Reply::decode(&w.buf),
        Err(DecodeError::NotUtf8 { .. })
    ));
    // Unknown error kind inside an outcome.
    let mut bytes = Reply::Called {
        id: 1,
        outcome: outcome(false),
    }
    .encode();
    bytes[1 + 8 + 1] = 200;
    assert!(matches!(
        Reply::decode(&bytes),
        Err(DecodeError::UnknownTag {
            what: "error kind",
            ..
        })
    ));
}
