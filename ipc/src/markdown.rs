//! Markdown to HTML, the same on both sides of the sandbox (feature `markdown`).
//!
//! The guest exposes it to scripts as the `bds_markdown` module, and the engine uses it for
//! the inner content of `{{% … %}}` calls, so a macro sees the same HTML either way.
//!
//! # Model
//! CommonMark ([pulldown-cmark]) with GitHub's tables and strikethrough; raw HTML passes
//! through as CommonMark says (the post's author wrote it). The HTML is the one the CommonMark
//! and GFM specifications print: `<del>` for strikethrough, and tables as
//!
//! ```text
//! <table>
//! <thead>
//! <tr>
//! <th align="right">a</th>
//! </tr>
//! </thead>
//! <tbody>
//! …
//! </tbody>
//! </table>
//! ```
//!
//! (no `<tbody>` when there are no body rows). The CPython oracle of the golden tests
//! (`fixtures/bds_markdown.py`, on markdown-it-py) writes the same.
//!
//! With `inline`, an output that is exactly one paragraph loses its `<p>…</p>` wrapper and
//! final newline, as Hugo's `markdownify` does: `*hi*` gives `<em>hi</em>`.
//!
//! ```
//! assert_eq!(bds_ipc::markdown_to_html("*hi*", false), "<p><em>hi</em></p>\n");
//! assert_eq!(bds_ipc::markdown_to_html("*hi*", true), "<em>hi</em>");
//! ```
//!
//! # Failure
//! There is none: every text is Markdown. Its cost is linear in the text.
//!
//! [pulldown-cmark]: https://docs.rs/pulldown-cmark

use pulldown_cmark::{Alignment, CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// `text` as HTML; `inline` drops the wrapper of a lone paragraph (see the module docs).
pub fn markdown_to_html(text: &str, inline: bool) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut spec = SpecHtml::default();
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    html::push_html(&mut out, parser.map(|event| spec.rewrite(event)));
    if inline
        && out.starts_with("<p>")
        && out.ends_with("</p>\n")
        && out.matches("<p>").count() == 1
    {
        out.truncate(out.len() - "</p>\n".len());
        out.drain(.."<p>".len());
    }
    out
}

/// `&`, `<`, `>` and `"` as entities, as the CommonMark reference renderer escapes text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes what the specifications print where pulldown-cmark's own writer differs: tables
/// (it puts no line breaks between the tags and uses `style` for alignment), and `"` in text
/// and code (it leaves it as it is; the specifications write `&quot;`).
#[derive(Default)]
struct SpecHtml {
    align: Vec<Alignment>,
    in_head: bool,
    body_open: bool,
    column: usize,
    /// Inside an image, text is its `alt` attribute, which pulldown-cmark escapes itself.
    images: usize,
}

impl SpecHtml {
    fn rewrite<'a>(&mut self, event: Event<'a>) -> Event<'a> {
        let html: CowStr<'a> = match &event {
            Event::Start(Tag::Image { .. }) => {
                self.images += 1;
                return event;
            }
            Event::End(TagEnd::Image) => {
                self.images = self.images.saturating_sub(1);
                return event;
            }
            Event::Text(text) if self.images == 0 => {
                if !text.contains('"') {
                    return event;
                }
                escape(text).into()
            }
            Event::Code(code) if self.images == 0 => {
                format!("<code>{}</code>", escape(code)).into()
            }
            Event::Start(Tag::Table(align)) => {
                self.align = align.clone();
                self.body_open = false;
                "<table>\n".into()
            }
            Event::Start(Tag::TableHead) => {
                self.in_head = true;
                self.column = 0;
                "<thead>\n<tr>\n".into()
            }
            Event::End(TagEnd::TableHead) => {
                self.in_head = false;
                "</tr>\n</thead>\n".into()
            }
            Event::Start(Tag::TableRow) => {
                self.column = 0;
                if self.body_open {
                    "<tr>\n".into()
                } else {
                    self.body_open = true;
                    "<tbody>\n<tr>\n".into()
                }
            }
            Event::End(TagEnd::TableRow) => "</tr>\n".into(),
            Event::Start(Tag::TableCell) => {
                let tag = if self.in_head { "th" } else { "td" };
                match self.align.get(self.column) {
                    Some(Alignment::Left) => format!("<{tag} align=\"left\">").into(),
                    Some(Alignment::Center) => format!("<{tag} align=\"center\">").into(),
                    Some(Alignment::Right) => format!("<{tag} align=\"right\">").into(),
                    Some(Alignment::None) | None => format!("<{tag}>").into(),
                }
            }
            Event::End(TagEnd::TableCell) => {
                self.column += 1;
                if self.in_head { "</th>\n" } else { "</td>\n" }.into()
            }
            Event::End(TagEnd::Table) => if self.body_open {
                "</tbody>\n</table>\n"
            } else {
                "</table>\n"
            }
            .into(),
            _ => return event,
        };
        Event::Html(html)
    }
}

#[cfg(test)]
mod tests {
    use super::markdown_to_html as md;

    // Expected HTML: the CommonMark 0.31 and GFM 0.29 specifications' examples (numbers given).
    #[test]
    fn commonmark_blocks_and_inlines() {
        // CommonMark example 301 (lists) and 348 (code spans).
        assert_eq!(
            md("- foo\n- bar\n+ baz\n", false),
            "<ul>\n<li>foo</li>\n<li>bar</li>\n</ul>\n<ul>\n<li>baz</li>\n</ul>\n"
        );
        assert_eq!(
            md("`` foo ` bar ``\n", false),
            "<p><code>foo ` bar</code></p>\n"
        );
        // Example 119: a fenced code block.
        assert_eq!(
            md("```\n<\n >\n```\n", false),
            "<pre><code>&lt;\n &gt;\n</code></pre>\n"
        );
        // Raw HTML passes through (example 148).
        assert_eq!(
            md(
                "<table><tr><td>\n<pre>\n**Hello**,\n\n_world_.\n</pre>\n</td></tr></table>\n",
                false
            ),
            "<table><tr><td>\n<pre>\n**Hello**,\n<p><em>world</em>.\n</pre></p>\n</td></tr></table>\n"
        );
    }

    #[test]
    fn gfm_tables_and_strikethrough() {
        // GFM example 198.
        assert_eq!(
            md("| foo | bar |\n| --- | --- |\n| baz | bim |\n", false),
            "<table>\n<thead>\n<tr>\n<th>foo</th>\n<th>bar</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>baz</td>\n<td>bim</td>\n</tr>\n</tbody>\n</table>\n"
        );
        // GFM example 199: alignment.
        assert_eq!(
            md("| abc | defghi |\n:-: | -----------:\nbar | baz\n", false),
            "<table>\n<thead>\n<tr>\n<th align=\"center\">abc</th>\n<th align=\"right\">defghi</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td align=\"center\">bar</td>\n<td align=\"right\">baz</td>\n</tr>\n</tbody>\n</table>\n"
        );
        // GFM example 205: no body rows, no <tbody>.
        assert_eq!(
            md("| abc | def |\n| --- | --- |\n", false),
            "<table>\n<thead>\n<tr>\n<th>abc</th>\n<th>def</th>\n</tr>\n</thead>\n</table>\n"
        );
        // `"` in text and code, as the reference renderer writes it (CommonMark example 347's
        // code span; quotes in text like example 33's `&quot;`).
        assert_eq!(
            md("\"a\" `\"b\"`", false),
            "<p>&quot;a&quot; <code>&quot;b&quot;</code></p>\n"
        );
        assert_eq!(
            md("```\n\"x\"\n```", false),
            "<pre><code>&quot;x&quot;\n</code></pre>\n"
        );
        assert_eq!(
            md("![a \"q\"](/i.png)", false),
            "<p><img src=\"/i.png\" alt=\"a &quot;q&quot;\" /></p>\n"
        );
        // GFM example 491.
        assert_eq!(
            md("~~Hi~~ Hello, world!\n", false),
            "<p><del>Hi</del> Hello, world!</p>\n"
        );
    }

    #[test]
    fn inline_unwraps_only_a_lone_paragraph() {
        assert_eq!(md("a *b*", true), "a <em>b</em>");
        assert_eq!(md("a\n\nb", true), "<p>a</p>\n<p>b</p>\n");
        assert_eq!(md("# a", true), "<h1>a</h1>\n");
        assert_eq!(md("", true), "");
    }
}
