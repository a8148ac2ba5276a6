// The studio page's side: `window.bds.scripts` over HTTP, then the panel on it.
//
// The API object is the preload's own (`createScriptsApi`), over an `ipcRenderer`-shaped
// transport: `invoke` posts `{channel, args}` to /api/invoke with the per-run token, and `on`
// listens to the server's change events. So the panel here talks to exactly what it talks to in
// Electron, and the main side validates every request as it does there.
import { createScriptsApi } from '../ipc/preload.js'
import { mountScriptEditor } from '../ui/src/index.js'

const token = document.querySelector('meta[name="bds-token"]').content
const listeners = new Map()
let events = null

const transport = {
  async invoke(channel, ...args) {
    const res = await fetch('/api/invoke', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-bds-token': token },
      body: JSON.stringify({ channel, args }),
    })
    if (!res.ok) return { ok: false, error: { code: 'transport', message: `${res.status} ${await res.text()}` } }
    return res.json()
  },
  on(channel, listener) {
    if (!events) {
      events = new EventSource(`/api/events?t=${encodeURIComponent(token)}`)
      events.onmessage = (m) => {
        const change = JSON.parse(m.data)
        for (const l of listeners.get('bds:scripts:changed') || []) l(null, change)
      }
    }
    listeners.set(channel, [...(listeners.get(channel) || []), listener])
  },
  removeListener(channel, listener) {
    listeners.set(channel, (listeners.get(channel) || []).filter((l) => l !== listener))
  },
}

const scripts = createScriptsApi(transport)
window.bds = Object.freeze({ scripts })
const panel = mountScriptEditor(document.getElementById('studio'), scripts)
// For tests and the benchmark: the panel's handle, and when it was ready.
window.bdsStudio = Object.freeze({ panel })
panel.ready.then(() => {
  document.documentElement.dataset.ready = String(performance.now())
})
