//! The macro syntax in content.
//!
//! ```text
//! {{< name arg1 key=value key="quoted value" raw=`a "raw" value` >}}
//! {{< name … >}}inner{{< /name >}}
//! {{< name … />}}       self-closing: never paired with a later {{< /name >}}
//! {{</* name */>}}      the escape: renders as the literal text {{< name >}}, also in code
//! {{% name … %}}inner{{% /name %}}   Hugo's Markdown form (also self-closing, and escaped
//!                       as {{%/* name */%}}): `inner` is Markdown, rendered before the macro
//!                       gets it ([`MacroCall::markdown`])
//! ```
//!
//! Names are letters, digits, `-`, `_`, `/` and `.` (Hugo's `blocks/feature`, `x.inline`).
//! A backtick-quoted value is a raw string: no escapes, and it may span lines.
//!
//! Typing of values: quoted is always a string (`"123"` stays `"123"`); unquoted integers and
//! floats become numbers; `true`/`false` become booleans; any other bare word is a string.
//! Positional arguments keep their order. A tag is paired when a matching `{{< /name >}}`
//! follows at the same nesting level, self-closing otherwise; tags pair by name whatever their
//! form, so `{{% x %}}…{{< /x >}}` is one call in the Markdown form (the opening tag decides).
//!
//! Macros inside Markdown code are left alone, as CommonMark draws code: fenced blocks
//! (```` ``` ```` or `~~~` at the start of a line, up to three spaces in), indented code
//! blocks (lines indented by four spaces or a tab, after a blank line, when the paragraph
//! before is not a list item: a list's continuation lines are not code), and inline code spans
//! (a run of backticks up to the next run of the same length, never across a blank line). Everything else, including text the parser cannot make sense
//! of, is kept as it was; a broken tag becomes an [`Node::Error`] with its line and column.
//!
//! The parser is linear in the input (with a sorted index for code spans) and never panics.

use serde_json::{Map, Value};

mod code;
mod scan;

use code::{blank_lines, code_blocks, unescape_code};
use scan::Scanner;
pub use scan::typed;

/// A piece of parsed content.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Text to copy through as it is.
    Text(String),
    Macro(MacroCall),
    /// A tag that could not be parsed; the text it covered is `source`.
    Error(ParseError),
}

/// One macro call.
#[derive(Debug, Clone, PartialEq)]
pub struct MacroCall {
    pub name: String,
    pub params: Map<String, Value>,
    pub args: Vec<Value>,
    /// The content between a paired tag's open and close, parsed (`None`: self-closing).
    pub inner: Option<Vec<Node>>,
    /// The raw text of `inner`.
    pub inner_source: Option<String>,
    /// Written `{{% … %}}`: the inner content is Markdown, rendered to HTML before the macro
    /// gets it, and the output is part of the post's Markdown.
    pub markdown: bool,
    /// 1-based line and column (in characters) of the opening `{{<`.
    pub line: u32,
    pub column: u32,
}

/// A tag the parser refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub line: u32,
    pub column: u32,
    /// The text of the refused tag.
    pub source: String,
}

/// Longest tag (from `{{<` to `>}}`) the parser looks for before calling it unclosed. With the
/// next-`>}}` cursor below, a run of unclosed tags costs O(1) each; the worst case of any input
/// is O(n × MAX_TAG).
const MAX_TAG: usize = 4 * 1024;

/// The two forms of a tag: `{{< … >}}` and Hugo's Markdown form `{{% … %}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Html = 0,
    Markdown = 1,
}

impl Form {
    fn open(self) -> &'static str {
        match self {
            Form::Html => "{{<",
            Form::Markdown => "{{%",
        }
    }
    fn close(self) -> &'static str {
        match self {
            Form::Html => ">}}",
            Form::Markdown => "%}}",
        }
    }
    fn unclosed(self) -> String {
        format!("`{}` is never closed with `{}`", self.open(), self.close())
    }
}

#[derive(Debug)]
enum Token {
    Text(std::ops::Range<usize>),
    Literal(String),
    Open {
        call: MacroCall,
        end: usize,
        /// Written `/>}}`: never paired.
        self_closing: bool,
    },
    Close {
        name: String,
        start: usize,
        end: usize,
    },
    Error(ParseError),
}

struct Lines {
    starts: Vec<usize>,
    /// The last position asked for (line, offset, column): asking in increasing order along
    /// one long line then costs only the distance travelled, keeping the parser linear.
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl Lines {
    fn new(s: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            s.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self {
            starts,
            last: std::cell::Cell::new((0, 0, 1)),
        }
    }
    fn at(&self, s: &str, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&x| x <= offset) - 1;
        let (last_line, last_offset, last_col) = self.last.get();
        let col = if last_line == line && last_offset <= offset {
            last_col + s[last_offset..offset].chars().count()
        } else {
            s[self.starts[line]..offset].chars().count() + 1
        };
        self.last.set((line, offset, col));
        (line as u32 + 1, col as u32)
    }
}

/// Whether `name` is a macro name: letters, digits, `-`, `_`, `/` and `.`, not starting or
/// ending with `/` or `.` (Hugo's `blocks/feature`, `time.inline`).
pub(in crate::macros) fn is_macro_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.'))
        && !name.starts_with(['/', '.'])
        && !name.ends_with(['/', '.'])
}

/// Parses `content` into nodes.
pub fn parse(content: &str) -> Vec<Node> {
    let tokens = tokenize(content);
    build(content, tokens)
}

fn tokenize(s: &str) -> Vec<Token> {
    let lines = Lines::new(s);
    let fences = code_blocks(s);
    let blanks = blank_lines(s);
    // Backtick runs outside fences, for matching inline code spans.
    let bytes = s.as_bytes();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    {
        let mut i = 0;
        let mut f = 0;
        while i < bytes.len() {
            if f < fences.len() && i >= fences[f].0 {
                i = i.max(fences[f].1);
                f += 1;
                continue;
            }
            if bytes[i] == b'`' {
                let start = i;
                while i < bytes.len() && bytes[i] == b'`' {
                    i += 1;
                }
                runs.push((start, i - start));
            } else {
                i += 1;
            }
        }
    }
    let mut by_len: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    for (idx, (_, len)) in runs.iter().enumerate() {
        by_len.entry(*len).or_default().push(idx);
    }

    let mut tokens = Vec::new();
    let mut next_close: [Option<usize>; 2] = [Some(0), Some(0)];
    let mut text_start = 0;
    let mut i = 0;
    let mut f = 0;
    let mut r = 0;
    let flush = |tokens: &mut Vec<Token>, from: usize, to: usize| {
        if to > from {
            tokens.push(Token::Text(from..to));
        }
    };
    // Code is copied as it is, except for escaped tags (see `unescape_code`).
    let code = |tokens: &mut Vec<Token>, text_start: &mut usize, from: usize, to: usize| {
        let piece = &s[from..to];
        if piece.contains("{{</*") || piece.contains("{{%/*") {
            flush(tokens, *text_start, from);
            tokens.push(Token::Literal(unescape_code(piece)));
            *text_start = to;
        }
    };
    while i < bytes.len() {
        if f < fences.len() && i >= fences[f].0 {
            let (from, to) = fences[f];
            if to > i {
                code(&mut tokens, &mut text_start, i.max(from), to);
            }
            i = i.max(to);
            f += 1;
            continue;
        }
        if bytes[i] == b'`' {
            while r < runs.len() && runs[r].0 < i {
                r += 1;
            }
            if r < runs.len() && runs[r].0 == i {
                let len = runs[r].1;
                let same = &by_len[&len];
                let k = same.partition_point(|&x| x <= r);
                // The closing run, if one comes before the next blank line (a paragraph break).
                let close = same.get(k).map(|&c| runs[c].0).filter(|&c| {
                    let b = blanks.partition_point(|&x| x <= i);
                    blanks.get(b).is_none_or(|&x| x >= c)
                });
                i = match close {
                    Some(c) => {
                        code(&mut tokens, &mut text_start, i, c + len);
                        c + len
                    }
                    None => i + len, // no closing run: the backticks are literal
                };
                continue;
            }
        }
        let form = match &bytes[i..] {
            [b'{', b'{', b'<', ..] => Some(Form::Html),
            [b'{', b'{', b'%', ..] => Some(Form::Markdown),
            _ => None,
        };
        if let Some(form) = form {
            flush(&mut tokens, text_start, i);
            // Where the next closing delimiter is (monotonic, so finding them all costs one
            // pass per form).
            let next_close = &mut next_close[form as usize];
            if next_close.is_some_and(|c| c < i + 3) {
                *next_close = s[i + 3..].find(form.close()).map(|k| i + 3 + k);
            }
            let (tok, next) = match *next_close {
                Some(c) if c < i + MAX_TAG => tag(s, i, form, &lines),
                _ => {
                    let (line, column) = lines.at(s, i);
                    let e = ParseError {
                        message: form.unclosed(),
                        line,
                        column,
                        source: form.open().into(),
                    };
                    (Token::Error(e), i + 3)
                }
            };
            tokens.push(tok);
            i = next;
            text_start = next;
            continue;
        }
        i += 1;
    }
    flush(&mut tokens, text_start, s.len());
    tokens
}

/// Parses the tag at `start` (which begins with `{{<`, or `{{%` for `form` Markdown). Returns
/// the token and where to go on.
fn tag(s: &str, start: usize, form: Form, lines: &Lines) -> (Token, usize) {
    let (open, close) = (form.open(), form.close());
    let (line, column) = lines.at(s, start);
    let err = |message: String, end: usize| {
        (
            Token::Error(ParseError {
                message,
                line,
                column,
                source: s[start..end].to_owned(),
            }),
            end,
        )
    };
    let body_start = start + 3;
    let limit = s.len().min(start + MAX_TAG);
    let rest = &s[body_start..];
    let trimmed = rest.trim_start();
    if let Some(after) = trimmed.strip_prefix("/*") {
        // The escape: {{</* … */>}} is the literal {{< … >}} (and {{%/* … */%}} {{% … %}}).
        let from = s.len() - after.len();
        let end = format!("*/{close}");
        return match s[from..].find(&end) {
            Some(k) => (
                Token::Literal(format!("{open}{}{close}", &s[from..from + k])),
                from + k + end.len(),
            ),
            None => err(
                format!("escaped macro `{open}/*` is never closed with `{end}`"),
                body_start,
            ),
        };
    }
    let mut p = Scanner {
        s,
        pos: body_start,
        limit,
        end: close,
    };
    p.skip_ws();
    let closing = p.eat("/");
    if closing {
        p.skip_ws();
    }
    let name = p.word();
    if name.is_empty() {
        return match p.find_end(limit) {
            Some(end) => err(
                format!("a macro tag needs a name: {open} name … {close}"),
                end,
            ),
            None => err(form.unclosed(), body_start),
        };
    }
    if !is_macro_name(&name) {
        return match p.find_end(limit) {
            Some(end) => err(
                format!("`{name}` is not a macro name (letters, digits, '-', '_', '/' and '.')"),
                end,
            ),
            None => err(form.unclosed(), body_start),
        };
    }
    if closing {
        p.skip_ws();
        return if p.eat(close) {
            (
                Token::Close {
                    name,
                    start,
                    end: p.pos,
                },
                p.pos,
            )
        } else {
            match p.find_end(limit) {
                Some(end) => err(
                    format!("a closing tag takes no arguments: {open} /{name} {close}"),
                    end,
                ),
                None => err(form.unclosed(), body_start),
            }
        };
    }
    let mut params = Map::new();
    let mut args = Vec::new();
    let mut self_closing = false;
    loop {
        p.skip_ws();
        if p.pos >= limit {
            return err(form.unclosed(), body_start);
        }
        if p.s[p.pos..].starts_with('/') && p.s[p.pos + 1..].starts_with(close) {
            p.pos += 1 + close.len();
            self_closing = true;
            break;
        }
        if p.eat(close) {
            break;
        }
        let item_start = p.pos;
        let value = match p.value() {
            Ok(v) => v,
            Err(message) => {
                let end = p.find_end(limit).unwrap_or(body_start);
                let (l, c) = lines.at(s, item_start);
                return err(format!("{message} (line {l}, column {c})"), end);
            }
        };
        if let (Value::String(key), false, true) = (&value.0, value.1, p.peek() == Some('=')) {
            p.pos += 1;
            let key = key.clone();
            match p.value() {
                Ok((v, _)) => {
                    params.insert(key, v);
                }
                Err(message) => {
                    let end = p.find_end(limit).unwrap_or(body_start);
                    return err(format!("{message} after `{key}=`"), end);
                }
            }
        } else {
            args.push(value.0);
        }
    }
    (
        Token::Open {
            call: MacroCall {
                name,
                params,
                args,
                inner: None,
                inner_source: None,
                markdown: form == Form::Markdown,
                line,
                column,
            },
            end: p.pos,
            self_closing,
        },
        p.pos,
    )
}

/// Pairs opening and closing tags, then builds the tree.
fn build(s: &str, tokens: Vec<Token>) -> Vec<Node> {
    // partner[i] = index of the closing token for the opening token i.
    let mut partner: Vec<Option<usize>> = vec![None; tokens.len()];
    let mut orphan_close = vec![false; tokens.len()];
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Open {
                self_closing: true, ..
            } => {}
            Token::Open { call, .. } => stack.push((i, call.name.as_str())),
            Token::Close { name, .. } => match stack.iter().rposition(|(_, n)| n == name) {
                Some(k) => {
                    partner[stack[k].0] = Some(i);
                    stack.truncate(k);
                }
                None => orphan_close[i] = true,
            },
            _ => {}
        }
    }
    let lines = Lines::new(s);
    let mut tokens: Vec<Option<Token>> = tokens.into_iter().map(Some).collect();
    let n = tokens.len();
    build_range(s, &lines, &mut tokens, &partner, &orphan_close, 0, n)
}

fn build_range(
    s: &str,
    lines: &Lines,
    tokens: &mut [Option<Token>],
    partner: &[Option<usize>],
    orphan: &[bool],
    from: usize,
    to: usize,
) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::new();
    let push_text = |out: &mut Vec<Node>, t: &str| {
        if let Some(Node::Text(prev)) = out.last_mut() {
            prev.push_str(t);
        } else if !t.is_empty() {
            out.push(Node::Text(t.to_owned()));
        }
    };
    let mut i = from;
    while i < to {
        match tokens[i].take() {
            Some(Token::Text(r)) => push_text(&mut out, &s[r]),
            Some(Token::Literal(t)) => push_text(&mut out, &t),
            Some(Token::Error(e)) => out.push(Node::Error(e)),
            Some(Token::Open { mut call, end, .. }) => {
                if let Some(close) = partner[i] {
                    let close_start = match &tokens[close] {
                        Some(Token::Close { start, .. }) => *start,
                        _ => end,
                    };
                    call.inner_source = Some(s[end..close_start].to_owned());
                    call.inner = Some(build_range(s, lines, tokens, partner, orphan, i + 1, close));
                    tokens[close] = None;
                    out.push(Node::Macro(call));
                    i = close + 1;
                    continue;
                }
                out.push(Node::Macro(call));
            }
            Some(Token::Close { start, end, .. }) if orphan[i] => {
                let (line, column) = lines.at(s, start);
                out.push(Node::Error(ParseError {
                    message: format!("`{}` closes a macro that was never opened", &s[start..end]),
                    line,
                    column,
                    source: s[start..end].to_owned(),
                }));
            }
            Some(Token::Close { .. }) | None => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests;
