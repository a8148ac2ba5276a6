'use strict'
// The studio: the script editor panel in a browser, on a real project and the real engine.
//
//   node napi-binding/studio/server.js [PROJECT_DIR] [--port N]      (or: make studio)
//
// It serves the panel on 127.0.0.1 and bridges `window.bds.scripts` to the same IPC handlers
// Electron's main process uses (`registerHandlers`, behind an `ipcMain`-shaped adapter), so a
// request from the browser goes through the same validation as one from the app's renderer.
//
// It is a local server that runs code, so it refuses (403) anything but its own page:
// - it listens on 127.0.0.1 only;
// - every request needs the random per-run token (in the printed URL; the page passes it on);
// - `Host` must be 127.0.0.1:PORT or localhost:PORT (a DNS-rebinding page has another host);
// - a request with an `Origin` must come from the studio's own origin, the API needs one, and a
//   browser's `Sec-Fetch-Site` must say same-origin (or none: the address typed in).
const http = require('node:http')
const { randomBytes, timingSafeEqual } = require('node:crypto')
const { readFileSync, existsSync } = require('node:fs')
const { join, resolve } = require('node:path')

const { Engine } = require('..')
const { registerHandlers, CHANNELS } = require('../ipc')

const DIST = join(__dirname, '..', 'ui', 'dist')
const ASSETS = {
  '/assets/bds-script-ui.css': ['bds-script-ui.css', 'text/css; charset=utf-8'],
  '/assets/studio.js': ['studio.js', 'text/javascript; charset=utf-8'],
  '/assets/studio.css': [join('..', '..', 'studio', 'studio.css'), 'text/css; charset=utf-8'],
}
// The panel's own code only; a macro's preview may show images and embeds from the web.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  'media-src https:',
  'frame-src https:',
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')
const MAX_BODY = 4 << 20

/** An `ipcMain` for `registerHandlers`: handlers called directly, their answers returned. */
class Bridge {
  constructor() {
    this.handlers = new Map()
  }
  handle(channel, listener) {
    this.handlers.set(channel, listener)
  }
  removeHandler(channel) {
    this.handlers.delete(channel)
  }
  async invoke(channel, args) {
    const handler = this.handlers.get(channel)
    if (!handler) return { ok: false, error: { code: 'invalid-argument', message: `no channel ${channel}` } }
    return handler({ senderFrame: { url: 'bds-studio' } }, ...args)
  }
}

function same(a, b) {
  const x = Buffer.from(String(a))
  const y = Buffer.from(String(b))
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * Opens the project in `dir` (created and seeded when it is not one yet) and serves the studio.
 * Resolves with `{ url, port, token, engine, close() }`.
 */
async function startStudio(dir, { port = 0, engineOptions = {} } = {}) {
  for (const file of ['bds-script-ui.css', 'studio.js']) {
    if (!existsSync(join(DIST, file))) throw new Error(`${join(DIST, file)} is missing: run \`node napi-binding/ui/build.mjs\` first`)
  }
  const engine = await Engine.open(resolve(dir), { create: true, ...engineOptions })
  const token = randomBytes(24).toString('hex')
  const bridge = new Bridge()
  const listeners = new Set()
  const hub = {
    isDestroyed: () => false,
    send(channel, change) {
      if (channel !== CHANNELS.changed) return
      const line = `data: ${JSON.stringify(change)}\n\n`
      for (const res of listeners) res.write(line)
    },
  }
  const dispose = registerHandlers(bridge, engine, { webContents: () => [hub] })
  let origin = ''
  let hosts = []

  const deny = (res, why) => {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
    res.end(`403 forbidden: ${why}\n`)
  }
  const headers = (type) => ({
    'content-type': type,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'cross-origin-resource-policy': 'same-origin',
  })

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, origin)
      if (!hosts.includes(req.headers.host)) return deny(res, 'wrong Host')
      if (req.headers.origin !== undefined && req.headers.origin !== `http://${req.headers.host}`) return deny(res, 'foreign Origin')
      const site = req.headers['sec-fetch-site']
      if (site !== undefined && site !== 'same-origin' && site !== 'none') return deny(res, 'cross-site request')
      const given = req.headers['x-bds-token'] || url.searchParams.get('t')
      if (!given || !same(given, token)) return deny(res, 'missing or wrong token')

      if (req.method === 'GET' && url.pathname === '/') {
        res.writeHead(200, headers('text/html; charset=utf-8'))
        return res.end(page(token))
      }
      if (req.method === 'GET' && ASSETS[url.pathname]) {
        const [file, type] = ASSETS[url.pathname]
        res.writeHead(200, headers(type))
        return res.end(readFileSync(join(DIST, file)))
      }
      if (req.method === 'GET' && url.pathname === '/api/events') {
        res.writeHead(200, { ...headers('text/event-stream'), connection: 'keep-alive' })
        res.write(': bds studio events\n\n')
        listeners.add(res)
        req.on('close', () => listeners.delete(res))
        return
      }
      if (req.method === 'POST' && url.pathname === '/api/invoke') {
        if (req.headers.origin === undefined) return deny(res, 'the API needs an Origin')
        if (!String(req.headers['content-type'] || '').startsWith('application/json')) return deny(res, 'the API takes JSON')
        const body = await readBody(req)
        let request
        try {
          request = JSON.parse(body)
        } catch {
          res.writeHead(400, headers('text/plain; charset=utf-8'))
          return res.end('the body is not JSON\n')
        }
        const args = Array.isArray(request.args) ? request.args : []
        const answer = await bridge.invoke(String(request.channel), args)
        res.writeHead(200, headers('application/json; charset=utf-8'))
        return res.end(JSON.stringify(answer))
      }
      res.writeHead(404, headers('text/plain; charset=utf-8'))
      res.end('not found\n')
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(`internal error: ${err && err.message}\n`)
    }
  })
  await new Promise((ok, fail) => {
    server.once('error', fail)
    server.listen(port, '127.0.0.1', ok)
  })
  const actual = server.address().port
  origin = `http://127.0.0.1:${actual}`
  hosts = [`127.0.0.1:${actual}`, `localhost:${actual}`]
  return {
    url: `${origin}/?t=${token}`,
    port: actual,
    token,
    engine,
    async close() {
      for (const res of listeners) res.end()
      listeners.clear()
      dispose()
      await new Promise((ok) => server.close(ok))
      server.closeAllConnections?.()
      await engine.close()
    },
  }
}

function readBody(req) {
  return new Promise((ok, fail) => {
    const parts = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > MAX_BODY) {
        fail(new Error('request too large'))
        req.destroy()
      } else parts.push(chunk)
    })
    req.on('end', () => ok(Buffer.concat(parts).toString('utf8')))
    req.on('error', fail)
  })
}

/** The page: no inline script; the token reaches the client in a meta tag. */
function page(token) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="bds-token" content="${token}">
<title>bds studio</title>
<link rel="stylesheet" href="/assets/bds-script-ui.css?t=${token}">
<link rel="stylesheet" href="/assets/studio.css?t=${token}">
</head>
<body>
<main id="studio" aria-label="bds script editor"></main>
<script src="/assets/studio.js?t=${token}"></script>
</body>
</html>
`
}

module.exports = { startStudio }

if (require.main === module) {
  const args = process.argv.slice(2)
  let port = 0
  const at = args.indexOf('--port')
  if (at >= 0) {
    port = Number(args[at + 1])
    args.splice(at, 2)
  }
  const dir = args[0] || join(__dirname, '..', '..', 'target', 'studio-project')
  startStudio(dir, { port })
    .then((s) => {
      console.log(`bds studio: ${resolve(dir)}`)
      console.log(`open ${s.url}`)
      console.log('(loopback only; the token in the address is required; Ctrl+C stops)')
      const stop = () => s.close().then(() => process.exit(0))
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    .catch((err) => {
      console.error(`bds studio: ${err.message}`)
      process.exit(1)
    })
}
