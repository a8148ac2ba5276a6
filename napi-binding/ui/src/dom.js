// Small DOM helpers: elements are built with properties and text, never with innerHTML, so no
// script name, message or output can become markup in the app.

/** `h('button', { class: 'x', onclick }, 'Save')`: an element with attributes, listeners, children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (k === 'class') el.className = v
    else if (k === 'text') el.textContent = v
    else if (v === true) el.setAttribute(k, '')
    else el.setAttribute(k, String(v))
  }
  append(el, children)
  return el
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

/** Arrow keys (and Home/End) move focus among `items()` inside `container` (roving tabindex). */
export function arrowNavigation(container, items, { horizontal = false } = {}) {
  container.addEventListener('keydown', (e) => {
    const list = items()
    const at = list.indexOf(document.activeElement)
    if (at < 0) return
    const next = { ArrowDown: 1, ArrowUp: -1, ArrowRight: 1, ArrowLeft: -1 }[e.key]
    const usable = horizontal ? ['ArrowLeft', 'ArrowRight'] : ['ArrowUp', 'ArrowDown']
    let to = -1
    if (next !== undefined && usable.includes(e.key)) to = (at + next + list.length) % list.length
    else if (e.key === 'Home') to = 0
    else if (e.key === 'End') to = list.length - 1
    if (to < 0) return
    e.preventDefault()
    for (const [i, el] of list.entries()) el.tabIndex = i === to ? 0 : -1
    list[to].focus()
  })
}

/** JSON as people read it. */
export function pretty(value) {
  return JSON.stringify(value, null, 2)
}

/** A line diff of two texts (longest common subsequence): [[' '|'-'|'+', line], ...]. */
export function lineDiff(before, after) {
  const a = before.split('\n')
  const b = after.split('\n')
  if (a.length * b.length > 4e6) return [...a.map((l) => ['-', l]), ...b.map((l) => ['+', l])]
  const n = a.length
  const m = b.length
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
    }
  }
  const out = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push([' ', a[i]])
      i++
      j++
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push(['-', a[i++]])
    else out.push(['+', b[j++]])
  }
  while (i < n) out.push(['-', a[i++]])
  while (j < m) out.push(['+', b[j++]])
  return out
}
