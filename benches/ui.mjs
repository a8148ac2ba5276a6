// The script editor panel, measured in the browser (Performance API) against the studio and the
// real engine: `make bench-ui` (needs Debian's chromium).
//
//   open → interactive: from navigation start to the panel ready with its list (n page loads);
//   Ctrl+Enter → preview: from the key press to the preview frame's load event and the next
//   animation frame (painted), for the bundled kbd and for toc over 200 headings; beside it,
//   the API round trip the panel measured and the engine's own call time, in the same run.
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(join(here, '..', 'napi-binding', 'package.json'))
const { startStudio } = require('./studio/server.js')
const { launchChromium } = require('./studio/chromium.js')

const N = Number(process.env.BDS_BENCH_UI_N || 30)
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const ms = (x) => (x >= 1 ? `${x.toFixed(2)} ms` : `${(x * 1000).toFixed(0)} µs`)
const row = (name, xs) => console.log(`| ${name} | ${ms(pct(xs, 50))} | ${ms(pct(xs, 95))} | ${xs.length} |`)

const headings = (n) => Array.from({ length: n }, (_, i) => `<h${2 + (i % 3)}>Heading ${i}</h${2 + (i % 3)}><p>Text ${i}.</p>`).join('\n')

const dir = mkdtempSync(join(tmpdir(), 'bds-bench-ui-'))
const studio = await startStudio(dir, { engineOptions: { workers: 1, watch: false } })
const browser = await launchChromium({ width: 1400, height: 900 })
try {
  const page = await browser.newPage()
  const opens = []
  for (let i = 0; i < Math.max(5, N / 3); i++) {
    await page.goto(studio.url)
    await page.waitForSelector('html[data-ready] .cm-editor')
    opens.push(await page.evaluate(() => Number(document.documentElement.dataset.ready)))
  }
  console.log('# the script editor panel in chromium\n')
  console.log('| workload | p50 | p95 | n |')
  console.log('|---|---|---|---|')
  row('open the page → panel ready (list shown, editor mounted)', opens)

  for (const [slug, context] of [
    ['kbd', { args: ['Ctrl+Shift+P'] }],
    ['toc', { params: { depth: 3 }, post: { title: 'T', content: headings(200) } }],
  ]) {
    await page.$eval(`button.bds-se-item[data-slug="${slug}"]`, (b) => b.click())
    await page.waitForFunction((s) => document.querySelector('.bds-se-title').textContent === `${s}.py`, {}, slug)
    await page.$eval('.bds-se-context', (el, c) => (el.value = c), JSON.stringify(context))
    const painted = []
    const roundTrips = []
    const engine = []
    for (let i = 0; i < N + 3; i++) {
      const t = await page.evaluate(
        () =>
          new Promise((resolve) => {
            const root = document.querySelector('.bds-se')
            const frame = document.querySelector('iframe.bds-se-preview')
            const t0 = performance.now()
            const watch = (f) =>
              f.addEventListener('load', () => requestAnimationFrame(() => resolve({ paint: performance.now() - t0, api: Number(root.dataset.lastRunMs), us: Number(root.dataset.lastDurationUs) })), { once: true })
            if (frame) watch(frame)
            else {
              const obs = new MutationObserver(() => {
                const f = document.querySelector('iframe.bds-se-preview')
                if (f) {
                  obs.disconnect()
                  watch(f)
                }
              })
              obs.observe(root, { subtree: true, childList: true })
            }
            document.querySelector('.cm-content').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', ctrlKey: true, bubbles: true }))
          }),
      )
      if (i >= 3) {
        painted.push(t.paint)
        roundTrips.push(t.api)
        engine.push(t.us / 1000)
      }
    }
    row(`${slug}: Ctrl+Enter → preview painted`, painted)
    row(`${slug}:   of which the API round trip (the panel's fetch to the studio and back)`, roundTrips)
    row(`${slug}:   of which the engine's call (worker time)`, engine)
  }
} finally {
  await browser.close()
  await studio.close()
  rmSync(dir, { recursive: true, force: true })
}
