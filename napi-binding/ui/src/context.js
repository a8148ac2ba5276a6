// The Run button's context: prefilled from the ABI and the script's declared parameters, and a
// few remembered per script (in the renderer's localStorage, when it has one).

const KEEP = 5
const PREFIX = 'bds-script-editor:contexts:'

/** An example value for a declared parameter without a default. */
function example(p) {
  switch (p.type) {
    case 'int':
      return 0
    case 'float':
      return 0.0
    case 'bool':
      return false
    case 'choice':
      return (p.choices && p.choices[0]) || ''
    default:
      return p.name === 'id' ? 'example' : `example ${p.name}`
  }
}

/** The context a Run starts from, for a script entry (kind, params). */
export function defaultContext(entry) {
  if (entry && entry.kind === 'transform') {
    return { post: { title: 'An example post', content: '<p>Some <b>content</b>.</p>', url: 'https://example.com/a?utm_source=x' } }
  }
  const params = {}
  const args = []
  for (const p of (entry && entry.params) || []) {
    if (p.name.startsWith('*')) continue
    const value = p.default !== undefined ? p.default : p.required ? example(p) : undefined
    if (value === undefined) continue
    if (p.position !== undefined && p.position !== null && p.default === undefined) args[p.position] = value
    else params[p.name] = value
  }
  return {
    params,
    args: args.filter((a) => a !== undefined),
    inner: null,
    post: { title: 'An example post', content: '<h2>First</h2><p>Text.</p><h2>Second</h2>' },
    site: { title: 'An example site' },
  }
}

function storage() {
  try {
    return globalThis.localStorage || null
  } catch {
    return null
  }
}

/** The contexts remembered for `slug`, newest first (JSON texts). */
export function remembered(slug) {
  const s = storage()
  if (!s) return []
  try {
    const list = JSON.parse(s.getItem(PREFIX + slug) || '[]')
    return Array.isArray(list) ? list.filter((x) => typeof x === 'string') : []
  } catch {
    return []
  }
}

/** Remembers a context text that ran, keeping the newest few. */
export function remember(slug, text) {
  const s = storage()
  if (!s) return
  const list = [text, ...remembered(slug).filter((t) => t !== text)].slice(0, KEEP)
  try {
    s.setItem(PREFIX + slug, JSON.stringify(list))
  } catch {
    // A full or disabled storage only loses the history.
  }
}
