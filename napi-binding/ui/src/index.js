// The script editor panel: `mountScriptEditor(element, api)`, where `api` is the preload's
// `window.bds.scripts` (every method resolves `{ ok, value }` or `{ ok: false, error }`).
//
// Framework-free; no eval, no inline script, no innerHTML: it runs under a strict
// Content-Security-Policy (`script-src 'self'`). A macro's HTML is previewed in an iframe
// sandboxed without `allow-scripts`, so it can never run script in the app.
import { defaultContext, remember, remembered } from './context.js'
import { fill, h, pretty } from './dom.js'
import { createEditor } from './editor.js'
import { createList, statusOf } from './list.js'
import { createOutput } from './output.js'

/** What a new script starts as: a macro that works, with its header. */
function template(slug) {
  return [
    '# ---',
    `# title: ${slug}`,
    '# kind: macro',
    '# params:',
    '#   text: str, default "hello", position 0 -- what to show',
    '# ---',
    'import html',
    '',
    '',
    'def render(context):',
    '    text = context["params"]["text"]',
    '    return {"html": "<span>" + html.escape(text) + "</span>"}',
    '',
  ].join('\n')
}

const METHODS = ['list', 'read', 'create', 'save', 'setEnabled', 'delete', 'rename', 'runSource', 'diagnostics', 'metrics', 'onChanged']

/**
 * Mounts the panel in `element`. Returns `{ open(slug), refresh(), destroy() }`.
 * `options.confirm(message)` / `options.prompt(message, value)` replace the browser dialogs.
 */
export function mountScriptEditor(element, api, options = {}) {
  if (!element || typeof element.append !== 'function') throw new TypeError('mountScriptEditor needs an element')
  for (const m of METHODS) {
    if (!api || typeof api[m] !== 'function') throw new TypeError(`mountScriptEditor needs window.bds.scripts (missing ${m})`)
  }
  const ask = options.prompt || ((m, v) => globalThis.prompt(m, v))
  const confirmIt = options.confirm || ((m) => globalThis.confirm(m))

  const state = {
    entries: [],
    slug: null,
    entry: null,
    loaded: '', // the text as last read from or written to disk
    baseHash: null, // its hash: a save fails with `conflict` if the file changed since
    stash: null, // the user's buffer kept aside when they chose to reload from disk
    destroyed: false,
  }

  // ---- layout -------------------------------------------------------------------------------
  const listPane = h('nav', { class: 'bds-se-list', 'aria-label': 'Scripts' })
  const newButton = h('button', { type: 'button', class: 'bds-se-new', text: 'New script', onclick: () => createScript() })
  listPane.append(newButton)
  const list = createList(listPane, { onOpen: (slug) => open(slug) })

  const title = h('h2', { class: 'bds-se-title', text: 'No script open' })
  const dirtyMark = h('span', { class: 'bds-se-dirty', 'aria-live': 'polite', text: '' })
  const status = h('span', { class: 'bds-se-status', text: '' })
  const btn = (text, onclick, extra = {}) => h('button', { type: 'button', text, onclick, disabled: true, ...extra })
  const saveButton = btn('Save', () => save(), { 'aria-keyshortcuts': 'Control+S Meta+S', title: 'Save (Ctrl/Cmd+S)' })
  const runButton = btn('Run', () => run(), { 'aria-keyshortcuts': 'Control+Enter Meta+Enter', title: 'Run the buffer (Ctrl/Cmd+Enter)' })
  const enableButton = btn('Disable', () => toggleEnabled())
  const renameButton = btn('Rename…', () => renameScript())
  const deleteButton = btn('Delete…', () => deleteScript())
  const toolbar = h('div', { class: 'bds-se-toolbar', role: 'toolbar', 'aria-label': 'Script actions' }, saveButton, runButton, enableButton, renameButton, deleteButton)
  const banner = h('div', { class: 'bds-se-banner', role: 'alert', hidden: true })
  const editorHost = h('div', { class: 'bds-se-editor' })
  const contextLabel = h('label', { for: 'bds-se-context', text: 'Run with this context (JSON)' })
  const contextBox = h('textarea', { id: 'bds-se-context', class: 'bds-se-context', spellcheck: 'false', rows: 6 })
  const history = h('select', { class: 'bds-se-history', 'aria-label': 'Contexts used before' })
  history.addEventListener('change', () => {
    if (history.value) contextBox.value = history.value
  })
  const resetContext = h('button', { type: 'button', text: 'Default context', onclick: () => (contextBox.value = pretty(defaultContext(state.entry))) })
  const main = h(
    'section',
    { class: 'bds-se-main', 'aria-label': 'Editor' },
    h('header', { class: 'bds-se-head' }, title, dirtyMark, status),
    toolbar,
    banner,
    editorHost,
    h('div', { class: 'bds-se-ctx' }, contextLabel, h('div', { class: 'bds-se-ctx-tools' }, history, resetContext), contextBox),
  )
  const outputPane = h('section', { class: 'bds-se-output', 'aria-label': 'Output' })
  const root = h('div', { class: 'bds-se' }, listPane, main, outputPane)
  element.append(root)

  const editor = createEditor(editorHost, {
    label: 'Script source',
    onChange: () => showDirty(),
    keys: { save: () => save(), run: () => run() },
  })
  const output = createOutput(outputPane, { onFrame: (line) => editor.goToLine(line) })
  // The keys work wherever focus is in the panel, not only in the editor.
  root.addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.defaultPrevented) return
    if (e.key === 's' || e.key === 'S') {
      e.preventDefault()
      save()
    } else if (e.key === 'Enter') {
      e.preventDefault()
      run()
    }
  })

  // ---- helpers ------------------------------------------------------------------------------
  const dirty = () => state.slug !== null && editor.text() !== state.loaded
  function showDirty() {
    const d = dirty()
    dirtyMark.textContent = d ? '● unsaved changes' : ''
    root.classList.toggle('is-dirty', d)
  }
  function showBanner(kind, message, actions = []) {
    banner.hidden = false
    banner.dataset.kind = kind
    fill(banner, h('span', { text: message }), actions.map(([label, fn]) => h('button', { type: 'button', text: label, onclick: fn })))
  }
  function hideBanner() {
    banner.hidden = true
    delete banner.dataset.kind
    fill(banner)
  }
  function showEntry(entry) {
    state.entry = entry
    title.textContent = entry ? `${entry.slug}.py` : 'No script open'
    const s = entry ? statusOf(entry) : null
    status.textContent = s ? s.text : ''
    status.dataset.status = s ? s.badge : ''
    for (const b of [saveButton, runButton, renameButton, deleteButton]) b.disabled = !entry
    enableButton.disabled = !entry || entry.kind === 'utility'
    enableButton.textContent = entry && !entry.enabled ? 'Enable' : 'Disable'
    if (entry && entry.status === 'compile-error' && entry.errorLine) editor.markError(entry.errorLine)
  }
  function fillHistory(slug) {
    const past = remembered(slug)
    fill(
      history,
      h('option', { value: '', text: past.length ? `Used before (${past.length})` : 'No contexts used before' }),
      past.map((t, i) => h('option', { value: t, text: `${i + 1}. ${t.replace(/\s+/g, ' ').slice(0, 60)}` })),
    )
  }
  function failed(result, what) {
    if (result.ok) return false
    showBanner('error', `${what}: ${result.error.message}`)
    return true
  }

  // ---- actions ------------------------------------------------------------------------------
  async function refresh() {
    const [entries, diag, metrics] = await Promise.all([api.list(), api.diagnostics(), api.metrics()])
    if (state.destroyed) return
    if (entries.ok) {
      state.entries = entries.value
      list.update(entries.value, state.slug)
      const mine = entries.value.find((e) => e.slug === state.slug)
      if (mine) showEntry(mine)
    }
    if (diag.ok) output.problems(diag.value)
    if (metrics.ok) output.figures(metrics.value, state.slug)
  }

  async function open(slug, { force = false } = {}) {
    if (!force && dirty() && slug !== state.slug && !confirmIt(`${state.slug}.py has unsaved changes. Open ${slug}.py and drop them?`)) return false
    const r = await api.read(slug)
    if (failed(r, `Cannot open ${slug}`)) return false
    state.slug = slug
    state.loaded = r.value.source
    state.baseHash = r.value.entry.contentHash
    state.stash = null
    editor.setText(r.value.source)
    hideBanner()
    showEntry(r.value.entry)
    showDirty()
    list.select(slug)
    contextBox.value = remembered(slug)[0] || pretty(defaultContext(r.value.entry))
    fillHistory(slug)
    output.clear(`Ready: ${slug}.py. Run with Ctrl/Cmd+Enter.`)
    const metrics = await api.metrics()
    if (metrics.ok) output.figures(metrics.value, slug)
    return true
  }

  async function save({ overwrite = false } = {}) {
    if (state.slug === null) return
    const text = editor.text()
    const r = await api.save(state.slug, text, overwrite ? undefined : state.baseHash)
    if (!r.ok && r.error.code === 'conflict') {
      showBanner('conflict', `${state.slug}.py changed on disk since you opened it. Your changes are not saved yet.`, [
        ['Overwrite with mine', () => save({ overwrite: true })],
        ['Reload from disk (keep mine aside)', () => reloadKeepingMine()],
      ])
      return
    }
    if (failed(r, 'Save failed')) return
    state.loaded = text
    state.baseHash = r.value.contentHash
    showEntry(r.value)
    showDirty()
    if (r.value.status === 'compile-error') {
      editor.markError(r.value.errorLine || null)
      showBanner('compile', `Saved, but it does not compile${r.value.errorLine ? ` (line ${r.value.errorLine})` : ''}: ${r.value.error}`, [
        ['Go to the line', () => editor.goToLine(r.value.errorLine || 1)],
      ])
    } else {
      editor.markError(null)
      hideBanner()
    }
    editor.view.focus()
    await refresh()
  }

  async function reloadKeepingMine() {
    const mine = editor.text()
    const slug = state.slug
    if (!(await open(slug, { force: true }))) return
    state.stash = mine
    showBanner('stash', `Reloaded ${slug}.py from disk. Your version is kept aside.`, [
      ['Restore my version', () => restoreStash()],
      ['Forget my version', () => ((state.stash = null), hideBanner(), editor.view.focus())],
    ])
    editor.view.focus()
  }

  function restoreStash() {
    if (state.stash === null) return
    const mine = state.stash
    state.stash = null
    editor.setText(mine)
    showDirty()
    showBanner('info', 'Your version is back in the editor (unsaved).')
    editor.view.focus()
  }

  async function run() {
    if (state.slug === null) return
    let context
    try {
      context = JSON.parse(contextBox.value || '{}')
    } catch (e) {
      output.clear()
      showBanner('error', `The context is not JSON: ${e.message}`)
      contextBox.focus()
      return
    }
    const kind = state.entry ? state.entry.kind : 'macro'
    output.clear('Running…')
    const started = performance.now()
    const r = await api.runSource(editor.text(), context, { entry: state.entry ? state.entry.entrypoint : 'render' }, state.slug)
    // For tools and benchmarks: the round trip through the API, and the engine's own call time.
    root.dataset.lastRunMs = String(performance.now() - started)
    root.dataset.lastDurationUs = r.ok ? String(r.value.durationUs) : ''
    if (r.ok) {
      editor.markError(null)
      remember(state.slug, contextBox.value)
      fillHistory(state.slug)
      output.success(r.value, { kind, before: context.post })
    } else {
      const e = r.error
      const frames = (e.traceback || []).filter((f) => f.file === `${state.slug}.py`)
      const line = frames.length ? frames[frames.length - 1].line : e.line || null
      editor.markError(line)
      output.failure(e, { file: `${state.slug}.py` })
    }
    const metrics = await api.metrics()
    if (metrics.ok) output.figures(metrics.value, state.slug)
  }

  async function createScript() {
    const slug = ask('Name of the new script (lowercase letters, digits, - and _):', '')
    if (!slug) return
    const name = slug.trim()
    const r = await api.create(name, template(name))
    if (failed(r, 'Cannot create it')) return
    await refresh()
    await open(r.value.slug, { force: true })
  }

  async function renameScript() {
    const to = ask(`Rename ${state.slug}.py to:`, state.slug)
    if (!to || to === state.slug) return
    if (dirty() && !confirmIt('Unsaved changes are dropped by a rename. Rename anyway?')) return
    const r = await api.rename(state.slug, to.trim())
    if (failed(r, 'Rename failed')) return
    state.slug = r.value.slug
    await refresh()
    await open(r.value.slug, { force: true })
  }

  async function deleteScript() {
    if (!confirmIt(`Delete ${state.slug}.py? It is moved to the project's trash (.bds/trash/), not erased.`)) return
    const r = await api.delete(state.slug)
    if (failed(r, 'Delete failed')) return
    const gone = state.slug
    state.slug = null
    state.loaded = ''
    editor.setText('', { editable: false })
    showEntry(null)
    showDirty()
    showBanner('info', `${gone}.py was moved to the trash: ${r.value}`)
    await refresh()
  }

  async function toggleEnabled() {
    const r = await api.setEnabled(state.slug, !state.entry.enabled)
    if (failed(r, 'Cannot change it')) return
    // The header line changed on disk: take the new text, keeping unsaved edits only on request.
    if (!dirty()) await open(state.slug, { force: true })
    await refresh()
  }

  function onChanged(change) {
    const touched = [change.slug, change.from, change.to].filter(Boolean)
    if (state.slug && touched.includes(state.slug) && change.origin === 'external') {
      if (change.kind === 'removed') {
        showBanner('external', `${state.slug}.py was removed outside the app. The text stays here until you close it.`, [
          ['Save it again', () => save({ overwrite: true })],
        ])
      } else if (change.kind === 'renamed') {
        state.slug = change.to
        title.textContent = `${change.to}.py`
      } else {
        showBanner('external', `${state.slug}.py changed on disk (another editor or git).`, [
          ['Reload from disk (keep mine aside)', () => reloadKeepingMine()],
          ['Keep mine', () => hideBanner()],
        ])
      }
    }
    refresh()
  }

  editor.setText('', { editable: false })
  const stop = api.onChanged(onChanged)
  const ready = refresh()
  return {
    ready,
    open: (slug) => open(slug),
    /** The editor's text (with unsaved changes), and whether it has any. */
    text: () => editor.text(),
    dirty,
    refresh,
    destroy() {
      state.destroyed = true
      if (typeof stop === 'function') stop()
      editor.destroy()
      root.remove()
    },
  }
}
