//! `bds_markdown`: Markdown to HTML for scripts, a built-in module of the guest.
//!
//! ```python
//! import bds_markdown
//! bds_markdown.render("*hi*")               # '<p><em>hi</em></p>\n'
//! bds_markdown.render("*hi*", inline=True)  # '<em>hi</em>'
//! ```
//!
//! `render(text, inline=False) -> str` is [`bds_ipc::markdown_to_html`] (CommonMark with GFM
//! tables and strikethrough; `inline` unwraps a lone paragraph). It behaves as the Python
//! function `def render(text, inline=False)` would, errors included (the CPython oracle's
//! `fixtures/bds_markdown.py` is that function): a `text` that is not a `str` is a `TypeError`,
//! `inline` is read for its truth value. It is in `sys.modules` before the snapshot, so importing
//! it costs nothing and no utility can take its name.

use rustpython_vm::builtins::PyStr;
use rustpython_vm::function::FuncArgs;
use rustpython_vm::{AsObject, PyObjectRef, PyResult, VirtualMachine};

const DOC: &str = "Markdown to HTML (CommonMark, GFM tables and strikethrough).\n\n\
render(text, inline=False) -> str: with inline=True, an output that is exactly one paragraph \
loses its <p>...</p> wrapper.";

/// Puts the module in `sys.modules`.
pub(crate) fn install(vm: &VirtualMachine) -> PyResult<()> {
    let module = vm.new_module("bds_markdown", vm.ctx.new_dict(), Some(vm.ctx.new_str(DOC)));
    module.set_attr("render", vm.new_function("render", render), vm)?;
    let modules = vm.sys_module.get_attr("modules", vm)?;
    modules.set_item("bds_markdown", module.into(), vm)
}

/// `render(text, inline=False)`, with Python's own messages for a bad call.
fn render(args: FuncArgs, vm: &VirtualMachine) -> PyResult<String> {
    let FuncArgs { args, kwargs } = args;
    if args.len() > 2 {
        return Err(vm.new_type_error(format!(
            "render() takes from 1 to 2 positional arguments but {} were given",
            args.len()
        )));
    }
    let mut slots: [Option<PyObjectRef>; 2] = [None, None];
    for (slot, value) in slots.iter_mut().zip(args) {
        *slot = Some(value);
    }
    for (name, value) in kwargs {
        let index = match name.as_str() {
            Ok("text") => 0,
            Ok("inline") => 1,
            _ => {
                return Err(vm.new_type_error(format!(
                    "render() got an unexpected keyword argument '{name}'"
                )));
            }
        };
        if slots[index].is_some() {
            return Err(vm.new_type_error(format!(
                "render() got multiple values for argument '{name}'"
            )));
        }
        slots[index] = Some(value);
    }
    let [text, inline] = slots;
    let Some(text) = text else {
        return Err(
            vm.new_type_error("render() missing 1 required positional argument: 'text'".to_owned())
        );
    };
    let Some(text) = text.downcast_ref::<PyStr>() else {
        return Err(vm.new_type_error(format!(
            "render() argument 'text' must be str, not {}",
            text.class().name()
        )));
    };
    let inline = match inline {
        Some(value) => value.is_true(vm)?,
        None => false,
    };
    // A str with lone surrogates is not UTF-8 (nor could it leave the guest in a result): refused.
    // The oracle's markdown-it would render it; no case holds one.
    let Some(text) = text.to_str() else {
        return Err(
            vm.new_value_error("render() argument 'text' holds a lone surrogate".to_owned())
        );
    };
    Ok(bds_ipc::markdown_to_html(text, inline))
}
