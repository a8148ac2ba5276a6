//! The macro syntax in content.
//!
//! ```text
//! {{< name arg1 key=value key="quoted value" >}}
//! {{< name … >}}inner{{< /name >}}
//! {{</* name */>}}      the escape: renders as the literal text {{< name >}}
//! ```
//!
//! Typing of values: quoted is always a string (`"123"` stays `"123"`); unquoted integers and
//! floats become numbers; `true`/`false` become booleans; any other bare word is a string.
//! Positional arguments keep their order. A tag is paired when a matching `{{< /name >}}`
//! follows at the same nesting level, self-closing otherwise.
//!
//! Macros inside Markdown code are left alone: fenced blocks (```` ``` ```` or `~~~` at the
//! start of a line, up to three spaces in) and inline code spans (a run of backticks up to the
//! next run of the same length). Everything else, including text the parser cannot make sense
//! of, is kept as it was; a broken tag becomes an [`Node::Error`] with its line and column.
//!
//! The parser is linear in the input (with a sorted index for code spans) and never panics.

use serde_json::{Map, Number, Value};

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

#[derive(Debug)]
enum Token {
    Text(std::ops::Range<usize>),
    Literal(String),
    Open {
        call: MacroCall,
        end: usize,
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

/// Byte ranges of fenced code blocks.
fn fences(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, u8, usize)> = None; // start, fence char, length
    let mut pos = 0;
    for line in s.split_inclusive('\n') {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let fence = |c: u8| trimmed.bytes().take_while(|b| *b == c).count();
        match open {
            None if indent <= 3 => {
                for c in [b'`', b'~'] {
                    let n = fence(c);
                    if n >= 3 {
                        open = Some((pos, c, n));
                        break;
                    }
                }
            }
            Some((start, c, n))
                if indent <= 3 && fence(c) >= n && trimmed[fence(c)..].trim().is_empty() =>
            {
                out.push((start, pos + line.len()));
                open = None;
            }
            _ => {}
        }
        pos += line.len();
    }
    if let Some((start, _, _)) = open {
        out.push((start, s.len()));
    }
    out
}

/// Parses `content` into nodes.
pub fn parse(content: &str) -> Vec<Node> {
    let tokens = tokenize(content);
    build(content, tokens)
}

fn tokenize(s: &str) -> Vec<Token> {
    let lines = Lines::new(s);
    let fences = fences(s);
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
    let mut next_close: Option<usize> = Some(0);
    let mut text_start = 0;
    let mut i = 0;
    let mut f = 0;
    let mut r = 0;
    let flush = |tokens: &mut Vec<Token>, from: usize, to: usize| {
        if to > from {
            tokens.push(Token::Text(from..to));
        }
    };
    while i < bytes.len() {
        if f < fences.len() && i >= fences[f].0 {
            i = i.max(fences[f].1);
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
                i = match same.get(k) {
                    Some(&close) => runs[close].0 + len,
                    None => i + len, // no closing run: the backticks are literal
                };
                continue;
            }
        }
        if bytes[i] == b'{' && s[i..].starts_with("{{<") {
            flush(&mut tokens, text_start, i);
            // Where the next `>}}` is (monotonic, so finding them all costs one pass).
            if next_close.is_some_and(|c| c < i + 3) {
                next_close = s[i + 3..].find(">}}").map(|k| i + 3 + k);
            }
            let (tok, next) = match next_close {
                Some(c) if c < i + MAX_TAG => tag(s, i, &lines),
                _ => {
                    let (line, column) = lines.at(s, i);
                    let e = ParseError {
                        message: "`{{<` is never closed with `>}}`".into(),
                        line,
                        column,
                        source: "{{<".into(),
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

/// Parses the tag at `start` (which begins with `{{<`). Returns the token and where to go on.
fn tag(s: &str, start: usize, lines: &Lines) -> (Token, usize) {
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
        // The escape: {{</* … */>}} is the literal {{< … >}}.
        let from = s.len() - after.len();
        return match s[from..].find("*/>}}") {
            Some(k) => (
                Token::Literal(format!("{{{{<{}>}}}}", &s[from..from + k])),
                from + k + 5,
            ),
            None => err(
                "escaped macro `{{</*` is never closed with `*/>}}`".into(),
                body_start,
            ),
        };
    }
    let mut p = Scanner {
        s,
        pos: body_start,
        limit,
    };
    p.skip_ws();
    let closing = p.eat("/");
    if closing {
        p.skip_ws();
    }
    let name = p.word();
    if name.is_empty() {
        return match p.find_end(limit) {
            Some(end) => err("a macro tag needs a name: {{< name … >}}".into(), end),
            None => err("`{{<` is never closed with `>}}`".into(), body_start),
        };
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return match p.find_end(limit) {
            Some(end) => err(
                format!("`{name}` is not a macro name (letters, digits, '-' and '_')"),
                end,
            ),
            None => err("`{{<` is never closed with `>}}`".into(), body_start),
        };
    }
    if closing {
        p.skip_ws();
        return if p.eat(">}}") {
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
                    format!("a closing tag takes no arguments: {{{{< /{name} >}}}}"),
                    end,
                ),
                None => err("`{{<` is never closed with `>}}`".into(), body_start),
            }
        };
    }
    let mut params = Map::new();
    let mut args = Vec::new();
    loop {
        p.skip_ws();
        if p.pos >= limit {
            return err("`{{<` is never closed with `>}}`".into(), body_start);
        }
        if p.eat(">}}") {
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
                line,
                column,
            },
            end: p.pos,
        },
        p.pos,
    )
}

/// Reads a tag; never looks past `limit` (so a stray quote cannot make parsing quadratic).
struct Scanner<'a> {
    s: &'a str,
    pos: usize,
    limit: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        if self.pos >= self.limit {
            return None;
        }
        self.s[self.pos..].chars().next()
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.s[self.pos..].starts_with(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }
    fn skip_ws(&mut self) {
        let rest = &self.s[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }
    fn at_end_marker(&self) -> bool {
        self.s[self.pos..].starts_with(">}}")
    }
    /// A bare word: up to white space, `=`, `"` or `>}}`.
    fn word(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == '=' || c == '"' || self.at_end_marker() {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.s[start..self.pos].to_owned()
    }
    /// A value and whether it was quoted.
    fn value(&mut self) -> Result<(Value, bool), String> {
        if self.eat("\"") {
            let mut out = String::new();
            loop {
                let Some(c) = self.peek() else {
                    return Err("a quoted value is never closed".into());
                };
                self.pos += c.len_utf8();
                match c {
                    '"' => return Ok((Value::String(out), true)),
                    '\\' => match self.peek() {
                        Some(n) => {
                            self.pos += n.len_utf8();
                            out.push(match n {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                        None => return Err("a quoted value is never closed".into()),
                    },
                    c => out.push(c),
                }
            }
        }
        let w = self.word();
        if w.is_empty() {
            return Err(format!(
                "unexpected `{}`",
                self.peek().map_or(String::new(), String::from)
            ));
        }
        Ok((typed(&w), false))
    }
    fn find_end(&self, limit: usize) -> Option<usize> {
        self.s[self.pos..limit.max(self.pos)]
            .find(">}}")
            .map(|k| self.pos + k + 3)
    }
}

/// The typing rule for an unquoted value.
pub fn typed(word: &str) -> Value {
    match word {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    let digits = word.strip_prefix(['+', '-']).unwrap_or(word);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = word.parse::<i64>()
    {
        return Value::Number(i.into());
    }
    let numeric = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && digits.as_bytes()[0] != b'e'
        && digits.as_bytes()[0] != b'E';
    if numeric
        && let Ok(f) = word.parse::<f64>()
        && f.is_finite()
        && let Some(n) = Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(word.to_owned())
}

/// Pairs opening and closing tags, then builds the tree.
fn build(s: &str, tokens: Vec<Token>) -> Vec<Node> {
    // partner[i] = index of the closing token for the opening token i.
    let mut partner: Vec<Option<usize>> = vec![None; tokens.len()];
    let mut orphan_close = vec![false; tokens.len()];
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t {
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
            Some(Token::Open { mut call, end }) => {
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
            Some(Token::Close { name, start, end }) if orphan[i] => {
                let (line, column) = lines.at(s, start);
                out.push(Node::Error(ParseError {
                    message: format!("`{{{{< /{name} >}}}}` closes a macro that was never opened"),
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
mod tests {
    use super::*;
    use serde_json::json;

    fn call(n: &Node) -> &MacroCall {
        match n {
            Node::Macro(m) => m,
            other => panic!("not a macro: {other:?}"),
        }
    }

    #[test]
    fn typing_rules_case_by_case() {
        let nodes = parse(
            r#"{{< m "123" 123 -7 +8 1.5 -0.25 1e3 .5 true false "true" word 12abc 1.2.3 e5 9223372036854775808 nan inf >}}"#,
        );
        assert_eq!(
            Value::Array(call(&nodes[0]).args.clone()),
            json!([
                "123",
                123,
                -7,
                8,
                1.5,
                -0.25,
                1000.0,
                0.5,
                true,
                false,
                "true",
                "word",
                "12abc",
                "1.2.3",
                "e5",
                9223372036854775808.0,
                "nan",
                "inf"
            ])
        );
    }

    #[test]
    fn named_and_positional_arguments_keep_their_order_and_types() {
        let nodes = parse(
            r#"a {{< youtube dQw4 start=42 title="Never \"gonna\" >}} give" autoplay=false >}} b"#,
        );
        assert_eq!(nodes.len(), 3);
        let m = call(&nodes[1]);
        assert_eq!(m.name, "youtube");
        assert_eq!(m.args, vec![json!("dQw4")]);
        assert_eq!(
            Value::Object(m.params.clone()),
            json!({"start": 42, "title": "Never \"gonna\" >}} give", "autoplay": false})
        );
        assert_eq!((m.line, m.column), (1, 3));
        assert_eq!(nodes[0], Node::Text("a ".into()));
        assert_eq!(nodes[2], Node::Text(" b".into()));
    }

    #[test]
    fn paired_tags_nest_and_carry_their_inner_text() {
        let nodes = parse("{{< callout tip >}}Press {{< kbd Ctrl+C >}} now{{< /callout >}}!");
        let m = call(&nodes[0]);
        assert_eq!(
            m.inner_source.as_deref(),
            Some("Press {{< kbd Ctrl+C >}} now")
        );
        let inner = m.inner.as_ref().unwrap();
        assert_eq!(inner.len(), 3);
        assert_eq!(call(&inner[1]).name, "kbd");
        assert_eq!(nodes[1], Node::Text("!".into()));
        // Same name nested: the innermost pair matches first.
        let nodes = parse("{{< d >}}a{{< d >}}b{{< /d >}}c{{< /d >}}");
        let outer = call(&nodes[0]);
        assert_eq!(
            outer.inner_source.as_deref(),
            Some("a{{< d >}}b{{< /d >}}c")
        );
        assert_eq!(
            call(&outer.inner.as_ref().unwrap()[1])
                .inner_source
                .as_deref(),
            Some("b")
        );
    }

    #[test]
    fn unclosed_and_orphan_tags_are_errors_that_keep_the_rest() {
        let nodes = parse("x\n  {{< kbd Ctrl\nmore text");
        assert_eq!(
            nodes[1],
            Node::Error(ParseError {
                message: "`{{<` is never closed with `>}}`".into(),
                line: 2,
                column: 3,
                source: "{{<".into()
            })
        );
        assert_eq!(nodes[2], Node::Text(" kbd Ctrl\nmore text".into()));
        let nodes = parse("a{{< /nope >}}b");
        assert!(
            matches!(&nodes[1], Node::Error(e) if e.message == "`{{< /nope >}}` closes a macro that was never opened" && e.column == 2)
        );
        // An opening tag with no closing one is self-closing.
        let nodes = parse("{{< a >}}x");
        assert_eq!(call(&nodes[0]).inner, None);
        let nodes = parse(r#"{{< a title="open >}}"#);
        assert!(
            matches!(&nodes[0], Node::Error(e) if e.message.starts_with("a quoted value is never closed")),
            "{nodes:?}"
        );
        let nodes = parse("{{< >}}");
        assert!(
            matches!(&nodes[0], Node::Error(e) if e.message == "a macro tag needs a name: {{< name … >}}")
        );
        let nodes = parse("{{< a/b >}}");
        assert!(
            matches!(&nodes[0], Node::Error(e) if e.message == "`a/b` is not a macro name (letters, digits, '-' and '_')")
        );
    }

    #[test]
    fn code_is_left_alone() {
        let src = "`{{< a >}}` and ``x `{{< b >}}` y`` and\n```\n{{< c >}}\n```\n~~~~python\n{{< d >}}\n~~~~\n{{< e >}} `unclosed {{< f >}}";
        let names: Vec<_> = parse(src)
            .iter()
            .filter_map(|n| match n {
                Node::Macro(m) => Some(m.name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, vec!["e", "f"]);
        // An unterminated fence runs to the end.
        assert_eq!(
            parse("```\n{{< a >}}"),
            vec![Node::Text("```\n{{< a >}}".into())]
        );
    }

    #[test]
    fn the_escape_renders_a_literal_tag() {
        assert_eq!(
            parse("use {{</* youtube id */>}} to embed"),
            vec![Node::Text("use {{< youtube id >}} to embed".into())]
        );
    }

    #[test]
    fn unicode_positions_are_in_characters() {
        let nodes = parse("héllo wörld\n日本 {{< ruby 漢字 note=\"ñ\" >}}");
        let m = call(&nodes[1]);
        assert_eq!((m.line, m.column), (2, 4));
        assert_eq!(m.args, vec![json!("漢字")]);
        assert_eq!(m.params["note"], "ñ");
    }
}
