'use strict'
// The renderer's side of the bds IPC contract: `window.bds.scripts`.
//
// Use it as (or from) a BrowserWindow's preload script. It is self-contained on purpose: a
// sandboxed preload (Electron's default) may require only 'electron', never a relative file.
// The main process's side (`registerHandlers`) reads the channel names from this file, so the
// two cannot drift apart.
//
// Every method resolves with a result envelope, `{ ok: true, value }` or
// `{ ok: false, error }`, and never rejects for an engine error: Electron's `invoke` and the
// context bridge both drop an Error's own properties (`code`, `line`, `traceback`, ...), which
// the editor needs, so the error travels as data.

const CHANNELS = Object.freeze({
  list: 'bds:scripts:list',
  read: 'bds:scripts:read',
  create: 'bds:scripts:create',
  save: 'bds:scripts:save',
  setEnabled: 'bds:scripts:set-enabled',
  delete: 'bds:scripts:delete',
  rename: 'bds:scripts:rename',
  run: 'bds:scripts:run',
  runSource: 'bds:scripts:run-source',
  diagnostics: 'bds:scripts:diagnostics',
  metrics: 'bds:scripts:metrics',
  // main → renderer: a script was added, changed, removed or renamed
  changed: 'bds:scripts:changed',
})

/** The object exposed as `window.bds.scripts`, over any `ipcRenderer`-like object. */
function createScriptsApi(ipcRenderer) {
  const invoke = (channel) => (...args) => ipcRenderer.invoke(channel, ...args)
  return Object.freeze({
    list: invoke(CHANNELS.list),
    read: invoke(CHANNELS.read),
    create: invoke(CHANNELS.create),
    save: invoke(CHANNELS.save),
    setEnabled: invoke(CHANNELS.setEnabled),
    delete: invoke(CHANNELS.delete),
    rename: invoke(CHANNELS.rename),
    run: invoke(CHANNELS.run),
    runSource: invoke(CHANNELS.runSource),
    diagnostics: invoke(CHANNELS.diagnostics),
    metrics: invoke(CHANNELS.metrics),
    /** Calls `callback(event)` for every script change; returns a function that stops it. */
    onChanged(callback) {
      if (typeof callback !== 'function') throw new TypeError('onChanged needs a function')
      const listener = (_event, change) => callback(change)
      ipcRenderer.on(CHANNELS.changed, listener)
      return () => {
        ipcRenderer.removeListener(CHANNELS.changed, listener)
      }
    },
  })
}

if (typeof module === 'object' && module && module.exports) {
  module.exports = { CHANNELS, createScriptsApi }
}

// In a preload (Electron sets process.type to 'renderer' there), expose the API.
if (typeof process === 'object' && process && process.type === 'renderer') {
  const { contextBridge, ipcRenderer } = require('electron')
  contextBridge.exposeInMainWorld('bds', Object.freeze({ scripts: createScriptsApi(ipcRenderer) }))
}
