'use strict'
// The IPC layer, through objects that implement the part of Electron's API it uses:
// `ipcMain.handle/removeHandler`, `webContents.send/isDestroyed`, and, for the preload,
// `contextBridge.exposeInMainWorld` and `ipcRenderer.invoke/on/removeListener`. Requests and
// answers go through structuredClone, as Electron's IPC does.
const test = require('node:test')
const assert = require('node:assert/strict')
const vm = require('node:vm')
const { readFileSync, writeFileSync } = require('node:fs')
const { join } = require('node:path')
const { openProject, waitFor, sha256 } = require('./helpers')
const { registerHandlers, CHANNELS } = require('../ipc')

class FakeIpcMain {
  constructor() {
    this.handlers = new Map()
  }
  handle(channel, listener) {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
    this.handlers.set(channel, listener)
  }
  removeHandler(channel) {
    this.handlers.delete(channel)
  }
  /** What `ipcRenderer.invoke` does: clone the arguments, call the handler, clone the answer. */
  async invoke(channel, event, ...args) {
    const handler = this.handlers.get(channel)
    if (!handler) throw new Error(`No handler registered for '${channel}'`)
    return structuredClone(await handler(event, ...structuredClone(args)))
  }
}

class FakeWebContents {
  constructor() {
    this.sent = []
    this.destroyed = false
    this.listeners = new Map()
  }
  send(channel, ...args) {
    this.sent.push([channel, ...structuredClone(args)])
    for (const l of this.listeners.get(channel) ?? []) l({ sender: this }, ...structuredClone(args))
  }
  isDestroyed() {
    return this.destroyed
  }
}

const trustedEvent = { senderFrame: { url: 'app://bds/index.html' } }

/** Loads ipc/preload.js as Electron's sandboxed preload would: `require` knows only 'electron'. */
function loadPreload(ipcMain, webContents) {
  const exposed = {}
  const ipcRenderer = {
    invoke: (channel, ...args) => ipcMain.invoke(channel, trustedEvent, ...args),
    on: (channel, listener) => {
      const list = webContents.listeners.get(channel) ?? []
      webContents.listeners.set(channel, [...list, listener])
    },
    removeListener: (channel, listener) => {
      webContents.listeners.set(channel, (webContents.listeners.get(channel) ?? []).filter((l) => l !== listener))
    },
  }
  const electron = { contextBridge: { exposeInMainWorld: (key, api) => (exposed[key] = api) }, ipcRenderer }
  const sandboxRequire = (name) => {
    if (name === 'electron') return electron
    throw new Error(`module not found: ${name} (a sandboxed preload can only require 'electron')`)
  }
  const source = readFileSync(join(__dirname, '..', 'ipc', 'preload.js'), 'utf8')
  vm.runInNewContext(source, { require: sandboxRequire, process: { type: 'renderer' } }, { filename: 'preload.js' })
  return exposed
}

async function setup(t, options = {}) {
  const { dir, engine } = await openProject(t, { watchDebounceMs: 50 })
  const ipcMain = new FakeIpcMain()
  const webContents = new FakeWebContents()
  const dispose = registerHandlers(ipcMain, engine, { webContents: () => [webContents], ...options })
  t.after(dispose)
  const window = loadPreload(ipcMain, webContents)
  return { dir, engine, ipcMain, webContents, dispose, scripts: window.bds.scripts }
}

test('the preload exposes exactly window.bds.scripts, over the main side\'s channels', async (t) => {
  const { ipcMain, scripts } = await setup(t)
  assert.deepEqual(Object.keys(scripts).sort(), [
    'create', 'delete', 'diagnostics', 'list', 'metrics', 'onChanged', 'read', 'rename', 'run', 'runSource', 'save', 'setEnabled',
  ])
  assert.deepEqual([...ipcMain.handlers.keys()].sort(), Object.values(CHANNELS).filter((c) => c !== CHANNELS.changed).sort())
})

test('the renderer lists, reads, edits, runs and renames scripts through IPC only', async (t) => {
  const { dir, scripts } = await setup(t)
  const list = await scripts.list({ kind: 'transform' })
  assert.equal(list.ok, true)
  assert.equal(list.value.length, 5)

  const read = await scripts.read('kbd')
  assert.equal(read.ok, true)
  assert.equal(read.value.source, readFileSync(join(dir, 'scripts', 'kbd.py'), 'utf8'))

  const src = 'def render(ctx):\n    print("hello")\n    return {"html": ctx["params"]["x"]}\n'
  const created = await scripts.create('note', src)
  assert.equal(created.ok, true)
  const run = await scripts.run('note', { params: { x: '<b>' } })
  assert.deepEqual(run.ok && [run.value.value, run.value.stdout], [{ html: '<b>' }, 'hello\n'])

  const v2 = src.replace('hello', 'again')
  const saved = await scripts.save('note', v2, sha256(src))
  assert.equal(saved.ok, true)
  const stale = await scripts.save('note', 'lost = 1\n', sha256(src))
  assert.deepEqual(stale, {
    ok: false,
    error: {
      code: 'conflict',
      message: `\`note\` changed on disk since it was opened (now ${sha256(v2)})`,
      currentHash: sha256(v2),
    },
  })
  assert.equal(readFileSync(join(dir, 'scripts', 'note.py'), 'utf8'), v2)

  assert.equal((await scripts.setEnabled('note', false)).value.enabled, false)
  assert.equal((await scripts.rename('note', 'memo')).value.slug, 'memo')
  const del = await scripts.delete('memo')
  assert.equal(del.ok, true)
  assert.equal((await scripts.read('memo')).error.code, 'not-found')

  const buffer = await scripts.runSource('def render(ctx):\n    return {"n": 1}\n', undefined, { deadlineMs: 1000 }, 'draft')
  assert.deepEqual(buffer, { ok: true, value: buffer.value })
  assert.deepEqual(buffer.value.value, { n: 1 })

  const diag = await scripts.diagnostics()
  assert.deepEqual(diag, { ok: true, value: { scripts: [], lastRender: [] } })
  const metrics = await scripts.metrics()
  assert.equal(metrics.ok, true)
  assert.equal(metrics.value.find((m) => m.script === 'note.py').calls, 1)
})

test('a failing script reaches the renderer as data: code, line, traceback, stdout', async (t) => {
  const { scripts } = await setup(t)
  const res = await scripts.runSource('def render(ctx):\n    print("so far")\n    raise KeyError("k")\n', { params: {} }, undefined, 'broken')
  assert.deepEqual(res, {
    ok: false,
    error: {
      code: 'runtime',
      message: "broken.py: runtime error at line 3: 'k'",
      detail: "'k'",
      script: 'broken.py',
      excType: 'KeyError',
      line: 3,
      traceback: [{ file: 'broken.py', line: 3, function: 'render' }],
      stdout: 'so far\n',
    },
  })
  const timeout = await scripts.runSource('def render(c):\n    while True:\n        pass\n', undefined, { deadlineMs: 30 })
  assert.equal(timeout.error.code, 'timeout')
})

test('malformed requests are refused at the boundary, with what was wrong', async (t) => {
  const { dir, ipcMain } = await setup(t)
  const call = (channel, ...args) => ipcMain.invoke(channel, trustedEvent, ...args)
  const refused = async (channel, args, code, message) => {
    const res = await call(channel, ...args)
    assert.deepEqual(res, { ok: false, error: { code, message } }, `${channel}: ${message}`)
  }
  await refused(CHANNELS.read, [42], 'invalid-argument', 'bds:scripts:read: slug: expected a script name, got a number')
  await refused(CHANNELS.read, ['../../etc/passwd'], 'invalid-name', 'bds:scripts:read: slug: "../../etc/passwd" is not a valid script name: it would leave the scripts/ folder')
  await refused(CHANNELS.read, ['/etc/passwd'], 'invalid-name', 'bds:scripts:read: slug: "/etc/passwd" is not a valid script name: it would leave the scripts/ folder')
  await refused(CHANNELS.create, ['Bad Name', 'x = 1\n'], 'invalid-name', 'bds:scripts:create: slug: "Bad Name" is not a valid script name: use 1 to 64 lowercase letters a-z, digits, "-" and "_", starting with a letter or digit')
  await refused(CHANNELS.create, ['ok', { code: 1 }], 'invalid-argument', 'bds:scripts:create: source: expected the source as a string, got an object')
  await refused(CHANNELS.create, ['ok', 'x'.repeat((1 << 20) + 1)], 'invalid-argument', `bds:scripts:create: source: the source is ${(1 << 20) + 1} bytes, over the 1048576-byte limit`)
  await refused(CHANNELS.save, ['kbd', 'x = 1\n', 'nothex'], 'invalid-argument', 'bds:scripts:save: baseHash: expected a content hash (64 hex digits), got a string')
  await refused(CHANNELS.setEnabled, ['kbd', 'yes'], 'invalid-argument', 'bds:scripts:set-enabled: enabled: expected a boolean, got a string')
  await refused(CHANNELS.list, [{ kind: 'virus' }], 'invalid-argument', 'bds:scripts:list: filter.kind: expected one of macro, utility, transform, got "virus"')
  await refused(CHANNELS.list, [{ path: '/' }], 'invalid-argument', 'bds:scripts:list: filter: unknown option "path" (known: kind, enabled)')
  await refused(CHANNELS.list, [undefined, 'extra'], 'invalid-argument', 'bds:scripts:list: expected at most 1 argument(s), got 2')
  await refused(CHANNELS.run, ['kbd', [1]], 'invalid-argument', 'bds:scripts:run: context: expected an object, got an array')
  await refused(CHANNELS.run, ['kbd', { params: { n: NaN } }], 'invalid-argument', 'bds:scripts:run: context.params.n: NaN is not a JSON number')
  await refused(CHANNELS.run, ['kbd', { post: new Date(0) }], 'invalid-argument', 'bds:scripts:run: context.post: an object is not JSON')
  let deep = {}
  for (let i = 0; i < 70; i++) deep = { d: deep }
  await refused(CHANNELS.run, ['kbd', deep], 'invalid-argument', 'bds:scripts:run: context' + '.d'.repeat(65) + ': nested deeper than 64 levels')
  // Shared references survive structured clone: 60 objects, each pointing twice at the next,
  // would be 2^60 paths to walk.
  let dag = {}
  for (let i = 0; i < 60; i++) dag = { a: dag, b: dag }
  const t0 = Date.now()
  const shared = await call(CHANNELS.run, 'kbd', dag)
  assert.equal(shared.error.code, 'invalid-argument')
  // Where the count runs out depends on the walk's order; the message names that place.
  assert.match(shared.error.message, /^bds:scripts:run: context(\.[ab])+: more than 100000 values$/)
  assert.equal(Date.now() - t0 < 5_000, true)
  const big = { post: { content: 'x'.repeat(1 << 20) } }
  const bigBytes = Buffer.byteLength(JSON.stringify(big))
  await refused(CHANNELS.run, ['kbd', big], 'invalid-argument', `bds:scripts:run: context: the context is ${bigBytes} bytes of JSON, over the 1048576-byte limit`)
  await refused(CHANNELS.create, ['con', 'x = 1\n'], 'invalid-name', 'bds:scripts:create: slug: "con" is not a valid script name: it is a device name on Windows')
  await refused(CHANNELS.run, ['kbd', {}, { deadlineMs: 3_600_000 }], 'invalid-argument', 'bds:scripts:run: options.deadlineMs: expected a whole number from 1 to 30000, got 3600000')
  await refused(CHANNELS.run, ['kbd', {}, { memoryMib: 4096 }], 'invalid-argument', 'bds:scripts:run: options.memoryMib: expected a whole number from 1 to 512, got 4096')
  await refused(CHANNELS.run, ['kbd', {}, { memoryMib: 1.5 }], 'invalid-argument', 'bds:scripts:run: options.memoryMib: expected a whole number from 1 to 512, got 1.5')
  await refused(CHANNELS.run, ['kbd', {}, { entry: 'os.system' }], 'invalid-argument', 'bds:scripts:run: options.entry: expected a Python function name, got "os.system"')
  await refused(CHANNELS.run, ['kbd', {}, { workerPath: '/bin/sh' }], 'invalid-argument', 'bds:scripts:run: options: unknown option "workerPath" (known: entry, deadlineMs, memoryMib, seed, fresh)')
  await refused(CHANNELS.runSource, ['x = 1\n', {}, {}, '../../tmp/x'], 'invalid-name', 'bds:scripts:run-source: name: "../../tmp/x" is not a valid script name: it would leave the scripts/ folder')
  // A well-formed name of a script that does not exist: the engine says so.
  const unknown = await call(CHANNELS.run, 'no-such-script')
  assert.deepEqual(unknown, { ok: false, error: { code: 'not-found', message: 'no script named `no-such-script`' } })
  // Handlers called directly (as a compromised page could, bypassing the preload) with values
  // structuredClone would not even carry are refused too.
  const handler = ipcMain.handlers.get(CHANNELS.run)
  assert.deepEqual(await handler(trustedEvent, 'kbd', { f: () => 1 }), {
    ok: false,
    error: { code: 'invalid-argument', message: 'bds:scripts:run: context.f: a function is not JSON' },
  })
  const cyclic = {}
  cyclic.self = cyclic
  assert.equal((await handler(trustedEvent, 'kbd', cyclic)).error.code, 'invalid-argument')
  // Nothing outside scripts/ was created.
  assert.deepEqual(require('node:fs').readdirSync(dir).sort(), ['.bds', 'scripts'])
})

test('an untrusted sender is refused', async (t) => {
  const { ipcMain } = await setup(t, { isTrusted: (event) => event.senderFrame.url.startsWith('app://bds/') })
  const res = await ipcMain.invoke(CHANNELS.list, { senderFrame: { url: 'https://evil.example/' } })
  assert.deepEqual(res, { ok: false, error: { code: 'forbidden', message: 'bds:scripts:list: the sender is not allowed to use bds' } })
  assert.equal((await ipcMain.invoke(CHANNELS.list, trustedEvent)).ok, true)
})

test('change events reach the renderer; destroyed windows are skipped; dispose ends it all', async (t) => {
  const { dir, scripts, webContents, ipcMain, dispose } = await setup(t)
  const seen = []
  const stop = scripts.onChanged((change) => seen.push(change))
  writeFileSync(join(dir, 'scripts', 'outside.py'), 'def render(c):\n    return {}\n')
  await waitFor(() => seen.length === 1, 10_000, 'the change event')
  assert.deepEqual(seen, [{ kind: 'added', slug: 'outside', origin: 'external' }])
  assert.deepEqual(webContents.sent, [[CHANNELS.changed, { kind: 'added', slug: 'outside', origin: 'external' }]])

  assert.throws(() => scripts.onChanged('not a function'), /onChanged needs a function/)
  stop()
  await scripts.create('quiet', 'x = 1\n')
  await waitFor(() => webContents.sent.length === 2, 5_000, 'the second send')
  assert.equal(seen.length, 1)

  webContents.destroyed = true
  await scripts.create('unheard', 'x = 1\n')
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(webContents.sent.length, 2)

  dispose()
  dispose()
  assert.equal(ipcMain.handlers.size, 0)
  await assert.rejects(scripts.list(), /No handler registered for 'bds:scripts:list'/)
})

test('registerHandlers refuses to run without ipcMain or an engine', () => {
  assert.throws(() => registerHandlers(undefined, {}), /registerHandlers needs ipcMain/)
  assert.throws(() => registerHandlers(new FakeIpcMain(), {}), /registerHandlers needs an open Engine/)
})

test('warnings reach the renderer: a run\'s warnings, and the last render\'s warning diagnostics', async (t) => {
  const { engine, scripts } = await setup(t)
  const created = await scripts.create(
    'old',
    "import warnings\ndef render(c):\n    warnings.warn('use new instead')\n    return {'html': 'ok'}\n",
  )
  assert.equal(created.ok, true)
  const run = await scripts.run('old', {})
  assert.equal(run.ok, true)
  assert.deepEqual(run.value.warnings, [{ category: 'UserWarning', message: 'use new instead', file: 'old.py', line: 3 }])
  // The app renders a post in the main process; the renderer reads its diagnostics.
  const out = await engine.expand('{{< old >}}', { title: 'T' }, {})
  assert.equal(out.html, 'ok')
  const diag = await scripts.diagnostics()
  assert.deepEqual(
    diag.value.lastRender.map((d) => [d.kind, d.severity, d.message]),
    [['warning', 'warning', 'UserWarning: use new instead']],
  )
})
