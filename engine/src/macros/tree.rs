//! A document as expansion sees it: text, calls numbered in document order, and parse errors;
//! and the HTML put back together once every call has its result.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Diagnostic, MacroCall, Node, ParseError, Severity, error_marker};

/// A call node with an id, after resolution.
pub(super) enum RNode {
    Text(String),
    Call(usize),
    Error(ParseError),
}

pub(super) struct CallData {
    pub(super) doc: usize,
    pub(super) call: MacroCall,
    pub(super) inner: Option<Vec<RNode>>,
    pub(super) height: usize,
    /// The paired call whose inner content holds this one.
    pub(super) parent: Option<usize>,
}

/// Lowers a document's nodes, numbering calls in document order (a paired call before the
/// calls inside it).
pub(super) fn lower(
    nodes: Vec<Node>,
    doc: usize,
    parent: Option<usize>,
    calls: &mut Vec<CallData>,
) -> (Vec<RNode>, usize) {
    let mut out = Vec::with_capacity(nodes.len());
    let mut height = 0;
    for n in nodes {
        match n {
            Node::Text(t) => out.push(RNode::Text(t)),
            Node::Error(e) => out.push(RNode::Error(e)),
            Node::Macro(mut m) => {
                let id = calls.len();
                let inner = m.inner.take();
                calls.push(CallData {
                    doc,
                    call: m,
                    inner: None,
                    height: 0,
                    parent,
                });
                let (inner, h) = match inner {
                    Some(nodes) => {
                        let (inner, h) = lower(nodes, doc, Some(id), calls);
                        (Some(inner), h + 1)
                    }
                    None => (None, 0),
                };
                height = height.max(h + 1);
                calls[id].inner = inner;
                calls[id].height = h;
                out.push(RNode::Call(id));
            }
        }
    }
    (out, height)
}

/// `context["call"]` of each call: its name, place and parent (see the macro context schema).
pub(super) fn call_metadata(calls: &[CallData]) -> Vec<Value> {
    let mut index: HashMap<usize, u64> = HashMap::new();
    let mut ordinal: HashMap<(usize, &str), u64> = HashMap::new();
    calls
        .iter()
        .map(|c| {
            let i = index.entry(c.doc).or_default();
            let o = ordinal.entry((c.doc, c.call.name.as_str())).or_default();
            let parent = c.parent.map(|p| {
                let p = &calls[p].call;
                json!({"name": p.name, "params": p.params, "args": p.args})
            });
            let v = json!({
                "name": c.call.name,
                "ordinal": *o,
                "index": *i,
                "line": c.call.line,
                "column": c.call.column,
                "parent": parent,
            });
            *i += 1;
            *o += 1;
            v
        })
        .collect()
}

pub(super) fn render(nodes: &[RNode], html: &[Option<String>], calls: &[CallData]) -> String {
    let mut out = String::new();
    for n in nodes {
        match n {
            RNode::Text(t) => out.push_str(t),
            RNode::Call(id) => match &html[*id] {
                Some(h) => out.push_str(h),
                None => out.push_str(&error_marker(&calls[*id].call.name, "not rendered")),
            },
            RNode::Error(e) => out.push_str(&error_marker("", &e.message)),
        }
    }
    out
}

pub(super) fn collect_parse_errors(nodes: &[RNode], doc: usize, out: &mut Vec<Diagnostic>) {
    for n in nodes {
        if let RNode::Error(e) = n {
            out.push(Diagnostic {
                document: doc,
                script: String::new(),
                line: e.line,
                column: e.column,
                kind: "parse".into(),
                severity: Severity::Error,
                message: e.message.clone(),
                traceback: Vec::new(),
            });
        }
    }
}
