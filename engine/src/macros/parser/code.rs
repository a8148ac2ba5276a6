//! Where Markdown code is, as CommonMark draws it: the parser leaves macros inside it alone.

/// Whether a line (without its newline) is a list item: `-`, `*`, `+` or `1.`/`1)` then a
/// space, up to three spaces in.
fn is_list_item(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    if line.len() - t.len() > 3 {
        return false;
    }
    let marker = if t.starts_with(['-', '*', '+']) {
        1
    } else {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        if (1..=9).contains(&digits) && matches!(t.as_bytes().get(digits), Some(b'.' | b')')) {
            digits + 1
        } else {
            return false;
        }
    };
    matches!(t.as_bytes().get(marker), Some(b' ' | b'\t') | None)
}

/// The width of a line's leading white space, a tab counting as four.
fn indent_width(line: &str) -> usize {
    let mut w = 0;
    for b in line.bytes() {
        match b {
            b' ' => w += 1,
            b'\t' => w += 4 - w % 4,
            _ => break,
        }
    }
    w
}

/// Byte ranges of code blocks: fenced, and indented (see the module docs), sorted.
pub(super) fn code_blocks(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, u8, usize)> = None; // start, fence char, length
    // An indented block being read: where it started and where its last code line ends.
    let mut indented: Option<(usize, usize)> = None;
    let mut prev_blank = true;
    // The last non-blank line outside code was a list item or a list's continuation.
    let mut in_list = false;
    let mut pos = 0;
    for line in s.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let blank = bare.trim().is_empty();
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let fence = |c: u8| trimmed.bytes().take_while(|b| *b == c).count();
        if let Some((start, c, n)) = open {
            if indent <= 3 && fence(c) >= n && trimmed[fence(c)..].trim().is_empty() {
                out.push((start, pos + line.len()));
                open = None;
            }
            pos += line.len();
            prev_blank = false;
            continue;
        }
        if let Some((start, end)) = indented {
            if blank {
                pos += line.len();
                continue;
            }
            if indent_width(bare) >= 4 {
                indented = Some((start, pos + line.len()));
                pos += line.len();
                continue;
            }
            out.push((start, end));
            indented = None;
            prev_blank = false;
        }
        if !blank && indent_width(bare) >= 4 && prev_blank && !in_list {
            indented = Some((pos, pos + line.len()));
        } else if indent <= 3 && [b'`', b'~'].iter().any(|&c| fence(c) >= 3) {
            let c = if fence(b'`') >= 3 { b'`' } else { b'~' };
            open = Some((pos, c, fence(c)));
        } else if !blank {
            in_list = is_list_item(bare)
                || (in_list && indent_width(bare) >= 2)
                || (in_list && !prev_blank);
        }
        prev_blank = blank;
        pos += line.len();
    }
    if let Some((start, _, _)) = open {
        out.push((start, s.len()));
    }
    if let Some((start, end)) = indented {
        out.push((start, end));
    }
    out
}

/// Offsets of the blank lines of `s` (a code span never crosses one), sorted.
pub(super) fn blank_lines(s: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut pos = 0;
    for line in s.split_inclusive('\n') {
        if line.trim().is_empty() && pos > 0 {
            out.push(pos);
        }
        pos += line.len();
    }
    out
}

/// Code as Hugo shows it: the escapes `{{</* … */>}}` and `{{%/* … */%}}` become the tags they
/// quote; everything else is kept.
pub(super) fn unescape_code(code: &str) -> String {
    code.replace("{{</*", "{{<")
        .replace("*/>}}", ">}}")
        .replace("{{%/*", "{{%")
        .replace("*/%}}", "%}}")
}
