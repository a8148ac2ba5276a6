// The scripts list: grouped by kind, filtered by name, each with its status.
import { arrowNavigation, fill, h } from './dom.js'

const KINDS = [
  ['macro', 'Macros'],
  ['transform', 'Transforms'],
  ['utility', 'Utilities'],
]

/** What a script's status says, in words, and a short badge. */
export function statusOf(entry) {
  if (entry.status === 'compile-error') {
    return { badge: 'error', text: `compile error${entry.errorLine ? ` on line ${entry.errorLine}` : ''}: ${entry.error || ''}` }
  }
  if (entry.status === 'invalid-header') return { badge: 'error', text: `header: ${entry.error || ''}` }
  if (entry.status === 'invalid-name') return { badge: 'error', text: entry.error || 'the name cannot be imported' }
  if (entry.status === 'not-utf8' || entry.status === 'too-large') return { badge: 'error', text: entry.error || entry.status }
  if (entry.updateAvailable) return { badge: 'update', text: 'a newer bundled version is available' }
  if (!entry.enabled && entry.kind !== 'utility') return { badge: 'off', text: 'disabled' }
  if (entry.status === 'unchecked') return { badge: 'unchecked', text: 'not checked yet' }
  return { badge: 'ok', text: 'ok' }
}

/**
 * The list in `root`. `onOpen(slug)` when a script is chosen; `render(entries, current)` redraws.
 */
export function createList(root, { onOpen }) {
  const filter = h('input', {
    type: 'search',
    class: 'bds-se-filter',
    placeholder: 'Filter by name',
    'aria-label': 'Filter scripts by name',
  })
  const groups = h('div', { class: 'bds-se-groups' })
  root.append(filter, groups)
  let entries = []
  let current = null
  const buttons = () => [...groups.querySelectorAll('button.bds-se-item')]
  arrowNavigation(groups, buttons)

  function render() {
    const q = filter.value.trim().toLowerCase()
    const shown = entries.filter((e) => !q || e.slug.includes(q) || e.title.toLowerCase().includes(q))
    const sections = []
    for (const [kind, label] of KINDS) {
      const mine = shown.filter((e) => e.kind === kind)
      if (!mine.length) continue
      const id = `bds-se-group-${kind}`
      sections.push(
        h(
          'section',
          { class: 'bds-se-group', 'aria-labelledby': id },
          h('h3', { id, text: `${label} (${mine.length})` }),
          h(
            'ul',
            { role: 'list' },
            mine.map((e) => {
              const s = statusOf(e)
              return h(
                'li',
                {},
                h(
                  'button',
                  {
                    type: 'button',
                    class: `bds-se-item${e.slug === current ? ' current' : ''}`,
                    'data-slug': e.slug,
                    'aria-current': e.slug === current ? 'true' : null,
                    title: `${e.title} — ${s.text}`,
                    tabindex: -1,
                    onclick: () => onOpen(e.slug),
                  },
                  h('span', { class: 'bds-se-slug', text: e.slug }),
                  h('span', { class: `bds-se-badge ${s.badge}`, 'data-status': s.badge, text: s.badge === 'ok' ? '' : s.badge }),
                ),
              )
            }),
          ),
        ),
      )
    }
    if (!sections.length) sections.push(h('p', { class: 'bds-se-empty', text: q ? `No script matches “${q}”.` : 'No scripts yet.' }))
    fill(groups, sections)
    const all = buttons()
    const focusable = all.find((b) => b.dataset.slug === current) || all[0]
    if (focusable) focusable.tabIndex = 0
  }
  filter.addEventListener('input', render)
  return {
    update(list, open) {
      entries = list
      current = open
      render()
    },
    select(slug) {
      current = slug
      render()
    },
    filter,
  }
}
