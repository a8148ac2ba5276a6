// Warm call latency from JavaScript through the Node-API addon, against the engine alone
// measured in the same process and the same run (`engine.measureEngine`: the same calls made
// from Rust on an engine thread, no JS in between). The difference is what the addon adds:
// argument conversion, the hand-off to an engine thread, and waking the JS thread with the
// result.
//
//   node benches/addon.mjs            (make bench-addon; BDS_BENCH_QUICK=1 for a short run)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine } = require('../napi-binding')
const quick = process.env.BDS_BENCH_QUICK === '1'

function stats(us) {
  const s = [...us].sort((a, b) => a - b)
  const q = (p) => s[Math.round((s.length - 1) * p)]
  return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99) }
}
const fmt = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`)

function headings(n) {
  let s = ''
  for (let i = 0; i < n; i++) {
    const level = [2, 3, 3, 4][i % 4]
    s += `<h${level}>Section ${i}: caf\u00e9 &amp; more</h${level}>\n<p>Paragraph ${i}.</p>\n`
  }
  return s
}

async function jsSide(engine, slug, context, warmup, n) {
  for (let i = 0; i < warmup; i++) await engine.runScript(slug, context)
  const out = []
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint()
    await engine.runScript(slug, context)
    out.push(Number(process.hrtime.bigint() - t) / 1000)
  }
  return out
}

const dir = mkdtempSync(join(tmpdir(), 'bds-bench-'))
try {
  const engine = await Engine.open(dir, { create: true, workers: 1, watch: false })
  await engine.createScript('one-line', 'def render(ctx):\n    return {"html": "<b>hi</b>"}\n')
  const workloads = [
    ['one-line macro', 'one-line', { params: {} }, quick ? 300 : 3000],
    ['kbd (bundled)', 'kbd', { args: ['Ctrl+Shift+P'] }, quick ? 300 : 3000],
    ['toc, 200 headings (bundled)', 'toc', { params: { depth: 3 }, post: { content: headings(200) } }, quick ? 30 : 200],
  ]
  console.log(`node ${process.version}, 1 worker; p50 / p95 / p99 of warm calls`)
  console.log('| workload | through the addon (JS) | engine alone (Rust, same run) | addon adds (p50) |')
  console.log('|---|---|---|---|')
  for (const [name, slug, context, n] of workloads) {
    const warmup = Math.max(20, n / 10)
    // Interleave the two sides in rounds so that drift on a noisy machine hits both alike.
    const js = []
    const rust = []
    const rounds = 5
    for (let r = 0; r < rounds; r++) {
      js.push(...(await jsSide(engine, slug, context, r === 0 ? warmup : 5, n / rounds)))
      rust.push(...(await engine.measureEngine(slug, context, n / rounds)))
    }
    const a = stats(js)
    const b = stats(rust)
    const row = (s) => `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.p99)}`
    console.log(`| ${name} | ${row(a)} | ${row(b)} | ${fmt(a.p50 - b.p50)} |`)
  }
  // Many calls in flight at once: throughput through the addon with 2 workers.
  const two = await Engine.open(dir, { workers: 2, watch: false })
  const n = quick ? 500 : 5000
  for (let i = 0; i < 100; i++) await two.runScript('one-line')
  const t = process.hrtime.bigint()
  await Promise.all(Array.from({ length: n }, () => two.runScript('one-line')))
  const total = Number(process.hrtime.bigint() - t) / 1000
  console.log(`\n${n} one-line calls in flight at once, 2 workers: ${fmt(total)} (${fmt(total / n)} per call)`)
  await two.close()
  await engine.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
