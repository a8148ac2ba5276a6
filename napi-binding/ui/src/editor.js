// The code editor: CodeMirror 6 with Python, a highlighted error line, and the panel's keys.
import { EditorView, basicSetup } from 'codemirror'
import { python } from '@codemirror/lang-python'
import { Compartment, EditorState, StateEffect, StateField } from '@codemirror/state'
import { Decoration, keymap } from '@codemirror/view'

const setErrorLine = StateEffect.define()

/** The line marked as failing (a compile error on save, or a runtime error's last frame). */
const errorLine = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes)
    for (const e of tr.effects) {
      if (!e.is(setErrorLine)) continue
      if (e.value === null || e.value < 1 || e.value > tr.state.doc.lines) return Decoration.none
      const line = tr.state.doc.line(e.value)
      deco = Decoration.set([Decoration.line({ class: 'bds-se-errline', attributes: { 'data-error-line': String(e.value) } }).range(line.from)])
    }
    return deco
  },
  provide: (f) => EditorView.decorations.from(f),
})

/**
 * Creates the editor in `parent`. `keys.save()` and `keys.run()` are bound to Mod-s and
 * Mod-Enter; `onChange(text)` follows every edit.
 */
export function createEditor(parent, { onChange, keys, label }) {
  const readOnly = new Compartment()
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: '',
      extensions: [
        keymap.of([
          { key: 'Mod-s', preventDefault: true, run: () => (keys.save(), true) },
          { key: 'Mod-Enter', preventDefault: true, run: () => (keys.run(), true) },
        ]),
        basicSetup,
        python(),
        errorLine,
        readOnly.of(EditorState.readOnly.of(true)),
        EditorView.contentAttributes.of({ 'aria-label': label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString())
        }),
      ],
    }),
  })
  return {
    view,
    text: () => view.state.doc.toString(),
    /** Replaces the whole text (loading a script): the cursor goes to the top. */
    setText(text, { editable = true } = {}) {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
        selection: { anchor: 0 },
        effects: [setErrorLine.of(null), readOnly.reconfigure(EditorState.readOnly.of(!editable))],
      })
    },
    /** Marks `line` (1-based) as failing, or clears the mark (null). */
    markError(line) {
      view.dispatch({ effects: setErrorLine.of(line) })
    },
    /** Moves the cursor to the start of `line` (1-based), scrolls to it and focuses the editor. */
    goToLine(line) {
      const n = Math.min(Math.max(1, line), view.state.doc.lines)
      const at = view.state.doc.line(n).from
      view.dispatch({ selection: { anchor: at }, scrollIntoView: true })
      view.focus()
    },
    cursorLine: () => view.state.doc.lineAt(view.state.selection.main.head).number,
    destroy: () => view.destroy(),
  }
}
