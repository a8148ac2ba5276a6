//! Reading the inside of a tag: words, quoted and raw values, and the typing of bare ones.

use serde_json::{Number, Value};

/// Reads a tag; never looks past `limit` (so a stray quote cannot make parsing quadratic).
pub(super) struct Scanner<'a> {
    pub(super) s: &'a str,
    pub(super) pos: usize,
    pub(super) limit: usize,
    /// The tag's closing delimiter: `>}}`, or `%}}` for the Markdown form.
    pub(super) end: &'static str,
}

impl Scanner<'_> {
    pub(super) fn peek(&self) -> Option<char> {
        if self.pos >= self.limit {
            return None;
        }
        self.s[self.pos..].chars().next()
    }
    pub(super) fn eat(&mut self, t: &str) -> bool {
        if self.s[self.pos..].starts_with(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }
    pub(super) fn skip_ws(&mut self) {
        let rest = &self.s[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }
    pub(super) fn at_end_marker(&self) -> bool {
        let rest = &self.s[self.pos..];
        rest.starts_with(self.end) || (rest.starts_with('/') && rest[1..].starts_with(self.end))
    }
    /// A bare word: up to white space, `=`, `"`, `` ` ``, or the closing delimiter (`>}}`,
    /// `/>}}`; `%}}`, `/%}}` in the Markdown form).
    pub(super) fn word(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == '=' || c == '"' || c == '`' || self.at_end_marker() {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.s[start..self.pos].to_owned()
    }
    /// A value and whether it was quoted.
    pub(super) fn value(&mut self) -> Result<(Value, bool), String> {
        if self.eat("`") {
            // A raw string: everything up to the next backtick, line breaks included.
            return match self.s[self.pos..self.limit.max(self.pos)].find('`') {
                Some(k) => {
                    let v = self.s[self.pos..self.pos + k].to_owned();
                    self.pos += k + 1;
                    Ok((Value::String(v), true))
                }
                None => Err("a `raw` value is never closed with a backtick".into()),
            };
        }
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
    pub(super) fn find_end(&self, limit: usize) -> Option<usize> {
        self.s[self.pos..limit.max(self.pos)]
            .find(self.end)
            .map(|k| self.pos + k + self.end.len())
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
