'use strict'
// Script changes, from the app or from outside it, reach JS through the change callback.
const test = require('node:test')
const assert = require('node:assert/strict')
const { writeFileSync, renameSync, unlinkSync } = require('node:fs')
const { join } = require('node:path')
const { openProject, waitFor } = require('./helpers')

test('files changed on disk produce change events; the app\'s own writes say so', async (t) => {
  const { dir, engine } = await openProject(t, { watchDebounceMs: 50 })
  const events = []
  const id = engine.onChange((e) => events.push(e))
  const file = (s) => join(dir, 'scripts', `${s}.py`)
  const next = async (what) => {
    const e = await waitFor(() => events.shift(), 10_000, what)
    return e
  }

  writeFileSync(file('outside'), 'def render(c):\n    return {"html": "1"}\n')
  assert.deepEqual(await next('an outside add'), { kind: 'added', slug: 'outside', origin: 'external' })

  writeFileSync(file('outside'), 'def render(c):\n    return {"html": "2"}\n')
  assert.deepEqual(await next('an outside change'), { kind: 'changed', slug: 'outside', origin: 'external' })
  // The engine runs what is on disk now.
  assert.deepEqual((await engine.runScript('outside')).value, { html: '2' })

  renameSync(file('outside'), file('moved'))
  assert.deepEqual(await next('an outside rename'), { kind: 'renamed', slug: 'moved', from: 'outside', origin: 'external' })

  unlinkSync(file('moved'))
  assert.deepEqual(await next('an outside delete'), { kind: 'removed', slug: 'moved', origin: 'external' })

  await engine.createScript('mine', 'def render(c):\n    return {}\n')
  assert.deepEqual(await next('an app add'), { kind: 'added', slug: 'mine', origin: 'app' })
  // The app's own write is not echoed back as an outside change.
  await new Promise((r) => setTimeout(r, 300))
  assert.deepEqual(events, [])

  assert.equal(engine.offChange(id), true)
  assert.equal(engine.offChange(id), false)
  writeFileSync(file('after'), 'def render(c):\n    return {}\n')
  await waitFor(async () => (await engine.listScripts()).some((e) => e.slug === 'after'), 10_000, 'the watcher to index after.py')
  assert.deepEqual(events, [])
})

test('every listener hears every change, in order', async (t) => {
  const { engine } = await openProject(t, { watch: false })
  const a = []
  const b = []
  engine.onChange((e) => a.push(e.slug))
  engine.onChange((e) => b.push(`${e.kind}:${e.slug}`))
  await engine.createScript('one', 'x = 1\n')
  await engine.renameScript('one', 'two')
  await engine.deleteScript('two')
  await waitFor(() => a.length === 3 && b.length === 3, 5_000, 'both listeners')
  assert.deepEqual(a, ['one', 'two', 'two'])
  assert.deepEqual(b, ['added:one', 'renamed:two', 'removed:two'])
})
