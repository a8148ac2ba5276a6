// The output panel: a tab list (Preview, Result, Printed, Problems, Figures) and what a run gave.
import { arrowNavigation, fill, h, lineDiff, pretty } from './dom.js'

const TABS = [
  ['preview', 'Preview'],
  ['result', 'Result'],
  ['stdout', 'Printed'],
  ['problems', 'Problems'],
  ['figures', 'Figures'],
]

function fmtUs(us) {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`
}

export function createOutput(root, { onFrame }) {
  const summary = h('div', { class: 'bds-se-summary', role: 'status', 'aria-live': 'polite' })
  const tablist = h('div', { class: 'bds-se-tabs', role: 'tablist', 'aria-label': 'Output' })
  const panels = {}
  const tabs = {}
  for (const [id, label] of TABS) {
    tabs[id] = h('button', {
      type: 'button',
      role: 'tab',
      id: `bds-se-tab-${id}`,
      'aria-controls': `bds-se-panel-${id}`,
      'aria-selected': 'false',
      tabindex: -1,
      text: label,
      onclick: () => show(id),
    })
    panels[id] = h('div', { role: 'tabpanel', id: `bds-se-panel-${id}`, 'aria-labelledby': `bds-se-tab-${id}`, class: 'bds-se-panel', hidden: true, tabindex: 0 })
    tablist.append(tabs[id])
  }
  arrowNavigation(tablist, () => Object.values(tabs), { horizontal: true })
  tablist.addEventListener('keydown', (e) => {
    const id = Object.keys(tabs).find((k) => tabs[k] === document.activeElement)
    if (id && (e.key.startsWith('Arrow') || e.key === 'Home' || e.key === 'End')) show(id)
  })
  // The preview: no allow-scripts, no allow-same-origin: a macro's HTML can never run script.
  const frame = h('iframe', { class: 'bds-se-preview', sandbox: '', title: 'Preview of the returned HTML', referrerpolicy: 'no-referrer' })
  root.append(summary, tablist, ...Object.values(panels))

  function show(id) {
    for (const [k, tab] of Object.entries(tabs)) {
      const on = k === id
      tab.setAttribute('aria-selected', on ? 'true' : 'false')
      tab.tabIndex = on ? 0 : -1
      panels[k].hidden = !on
    }
  }
  show('preview')

  function preview(html) {
    if (html === undefined) {
      fill(panels.preview, h('p', { class: 'bds-se-muted', text: 'The result has no html to preview.' }))
      return
    }
    frame.srcdoc = `<!doctype html><meta charset="utf-8"><style>body{font:15px/1.5 system-ui,sans-serif;margin:12px}</style>${html}`
    fill(panels.preview, frame)
  }

  return {
    show,
    clear(message) {
      fill(summary, message || '')
      for (const p of Object.values(panels)) fill(p)
    },
    /** A successful run. `before`: the transform's input post, for the diff. */
    success(out, { kind, before }) {
      const warnings = out.warnings || []
      fill(
        summary,
        h('span', { class: 'bds-se-ok', text: 'OK' }),
        ` in ${fmtUs(out.durationUs)}`,
        warnings.length ? h('span', { class: 'bds-se-warn', text: ` · ${warnings.length} warning${warnings.length > 1 ? 's' : ''}` }) : '',
      )
      const value = out.value || {}
      if (kind === 'transform' && value.post) {
        const diff = lineDiff(pretty(before || {}), pretty(value.post))
        fill(
          panels.preview,
          h('p', { class: 'bds-se-muted', text: 'The post before and after the transform:' }),
          h(
            'pre',
            { class: 'bds-se-diff', 'aria-label': 'Diff of the post' },
            diff.map(([op, line]) => h('span', { class: op === '+' ? 'add' : op === '-' ? 'del' : 'same', text: `${op} ${line}\n` })),
          ),
        )
      } else {
        preview(typeof value.html === 'string' ? value.html : undefined)
      }
      fill(panels.result, h('pre', { class: 'bds-se-json', text: pretty(value) }))
      fill(
        panels.stdout,
        out.stdout ? h('pre', { class: 'bds-se-stdout', text: out.stdout }) : h('p', { class: 'bds-se-muted', text: 'Nothing was printed.' }),
        warnings.map((w) => h('p', { class: 'bds-se-warn', text: `${w.file}:${w.line}: ${w.category}: ${w.message}` })),
      )
      show(kind === 'transform' || typeof value.html === 'string' ? 'preview' : 'result')
    },
    /** A failed run or save: kind, message, the traceback with clickable frames. */
    failure(error, { file }) {
      const frames = error.traceback || []
      fill(
        summary,
        h('span', { class: 'bds-se-err', text: error.code || 'error' }),
        ' ',
        h('span', { class: 'bds-se-errmsg', text: error.excType ? `${error.excType}: ${error.detail ?? error.message}` : error.message }),
      )
      fill(
        panels.result,
        h('p', { class: 'bds-se-errmsg', text: error.message }),
        frames.length
          ? h(
              'ol',
              { class: 'bds-se-trace', 'aria-label': 'Traceback, outermost call first' },
              frames.map((f) => {
                const mine = f.file === file
                return h(
                  'li',
                  {},
                  mine
                    ? h('button', { type: 'button', class: 'bds-se-frame', 'data-line': f.line, onclick: () => onFrame(f.line), text: `${f.file}, line ${f.line}, in ${f.function}` })
                    : h('span', { class: 'bds-se-frame other', text: `${f.file}, line ${f.line}, in ${f.function}` }),
                )
              }),
            )
          : '',
      )
      fill(panels.stdout, error.stdout ? h('pre', { class: 'bds-se-stdout', text: error.stdout }) : h('p', { class: 'bds-se-muted', text: 'Nothing was printed.' }))
      fill(panels.preview, h('p', { class: 'bds-se-muted', text: 'The run failed: see Result.' }))
      show('result')
    },
    problems(diag) {
      const items = [
        ...(diag.scripts || []).map((d) => `${d.slug}.py${d.line ? `:${d.line}` : ''}: ${d.status}: ${d.message}`),
        ...(diag.lastRender || []).map((d) => `${d.severity || 'error'} ${d.kind} ${d.script} (line ${d.line}, column ${d.column}): ${d.message}`),
      ]
      fill(panels.problems, items.length ? h('ul', {}, items.map((t) => h('li', { text: t }))) : h('p', { class: 'bds-se-muted', text: 'No problems.' }))
    },
    figures(metrics, slug) {
      const mine = metrics.filter((m) => !slug || m.script === `${slug}.py`)
      const rows = mine.map((m) =>
        h('tr', {}, [m.script, m.calls, m.errors, m.timeouts, m.cacheHits, fmtUs(m.p50Us), fmtUs(m.p95Us)].map((c) => h('td', { text: c }))),
      )
      fill(
        panels.figures,
        rows.length
          ? h(
              'table',
              { class: 'bds-se-metrics' },
              h('thead', {}, h('tr', {}, ['script', 'calls', 'errors', 'timeouts', 'cache hits', 'p50', 'p95'].map((c) => h('th', { scope: 'col', text: c })))),
              h('tbody', {}, rows),
            )
          : h('p', { class: 'bds-se-muted', text: 'No calls yet.' }),
      )
    },
  }
}
