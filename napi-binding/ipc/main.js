'use strict'
// The main process's side of the bds IPC contract: `registerHandlers(ipcMain, engine, ...)`.
const { CHANNELS } = require('./preload.js')
const { validate } = require('./validate.js')

/**
 * Each request: its parameters (name and checker, see validate.js) and the engine call.
 * The renderer gets no path of its choosing: scripts are named by slug only.
 */
const ROUTES = {
  [CHANNELS.list]: [[['filter', 'filter']], (e, filter) => e.listScripts(filter)],
  [CHANNELS.read]: [[['slug', 'slug']], (e, slug) => e.readScript(slug)],
  [CHANNELS.create]: [[['slug', 'slug'], ['source', 'source']], (e, slug, source) => e.createScript(slug, source)],
  [CHANNELS.save]: [
    [['slug', 'slug'], ['source', 'source'], ['baseHash', 'optionalHash']],
    (e, slug, source, baseHash) => e.saveScript(slug, source, baseHash),
  ],
  [CHANNELS.setEnabled]: [[['slug', 'slug'], ['enabled', 'boolean']], (e, slug, on) => e.setEnabled(slug, on)],
  [CHANNELS.delete]: [[['slug', 'slug']], (e, slug) => e.deleteScript(slug)],
  [CHANNELS.rename]: [[['from', 'slug'], ['to', 'slug']], (e, from, to) => e.renameScript(from, to)],
  [CHANNELS.run]: [
    [['slug', 'slug'], ['context', 'context'], ['options', 'runOptions']],
    (e, slug, context, options) => e.runScript(slug, context, options),
  ],
  [CHANNELS.runSource]: [
    [['source', 'source'], ['context', 'context'], ['options', 'runOptions'], ['name', 'optionalSlug']],
    (e, source, context, options, name) => e.runSource(source, context, options, name),
  ],
  [CHANNELS.diagnostics]: [[], (e) => e.diagnostics()],
  [CHANNELS.metrics]: [[], (e) => e.metrics()],
}

const ERROR_FIELDS = ['code', 'message', 'detail', 'script', 'excType', 'line', 'column', 'traceback', 'stdout', 'currentHash']

/** An error as data the renderer may see: known fields only, no stack. */
function errorInfo(err) {
  if (err && err.name === 'BdsError' && typeof err.code === 'string') {
    const info = {}
    for (const k of ERROR_FIELDS) if (err[k] !== undefined) info[k] = err[k]
    return info
  }
  return { code: 'internal', message: `internal error: ${err && err.message ? err.message : String(err)}` }
}

/**
 * Registers a handler for every request channel on `ipcMain` (with `ipcMain.handle`), and
 * forwards the engine's change events to the renderer (with `webContents.send`).
 *
 * options.webContents: a WebContents, or a function returning the WebContents to notify
 *   (e.g. `() => BrowserWindow.getAllWindows().map((w) => w.webContents)`).
 * options.isTrusted(event): return false to refuse a request (e.g. check
 *   `event.senderFrame.url`); refused requests answer `{ ok: false, error: { code: 'forbidden' } }`.
 *
 * Returns `dispose()`, which removes the handlers and the change subscription.
 */
function registerHandlers(ipcMain, engine, options = {}) {
  if (!ipcMain || typeof ipcMain.handle !== 'function') throw new TypeError('registerHandlers needs ipcMain')
  if (!engine || typeof engine.onChange !== 'function') throw new TypeError('registerHandlers needs an open Engine')
  const { isTrusted } = options
  const targets = () => {
    const wc = typeof options.webContents === 'function' ? options.webContents() : options.webContents
    return wc ? (Array.isArray(wc) ? wc : [wc]) : []
  }
  // Subscribe first: on a closed engine this throws before any handler is installed.
  const subscription = engine.onChange((change) => {
    let list = []
    try {
      list = targets()
    } catch (err) {
      console.error('bds: options.webContents() threw:', err)
    }
    for (const wc of list) {
      try {
        if (wc && !(typeof wc.isDestroyed === 'function' && wc.isDestroyed())) wc.send(CHANNELS.changed, change)
      } catch (err) {
        // One window going away must not stop the others hearing, nor crash the main process.
        console.error('bds: could not send a change event:', err)
      }
    }
  })
  for (const [channel, [params, call]] of Object.entries(ROUTES)) {
    ipcMain.handle(channel, async (event, ...args) => {
      try {
        if (isTrusted && !isTrusted(event)) {
          return { ok: false, error: { code: 'forbidden', message: `${channel}: the sender is not allowed to use bds` } }
        }
        const clean = validate(channel, params, args)
        return { ok: true, value: await call(engine, ...clean) }
      } catch (err) {
        return { ok: false, error: errorInfo(err) }
      }
    })
  }
  let disposed = false
  return function dispose() {
    if (disposed) return
    disposed = true
    for (const channel of Object.keys(ROUTES)) ipcMain.removeHandler(channel)
    engine.offChange(subscription)
  }
}

module.exports = { registerHandlers, CHANNELS }
