'use strict'
// The script editor panel in a real browser (Debian's chromium, driven by puppeteer-core),
// against the studio server with the real engine. Screenshots go to a temp folder, listed in
// the output.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { mkdtempSync, writeFileSync, readFileSync, existsSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')

const { startStudio } = require('../studio/server.js')
const { launchChromium } = require('../studio/chromium.js')

const shots = mkdtempSync(join(tmpdir(), 'bds-ui-shots-'))
let studio
let browser
let page
let dir
let nextPrompt = ''

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bds-ui-project-'))
  studio = await startStudio(dir, { engineOptions: { workers: 1, watchDebounceMs: 50 } })
  browser = await launchChromium({ width: 1400, height: 900 })
  page = await browser.newPage()
  page.on('pageerror', (e) => console.error('page error:', e.message))
  // confirm() (dropping unsaved changes) is accepted; prompt() answers what the test set.
  page.on('dialog', (d) => (d.type() === 'prompt' ? d.accept(nextPrompt) : d.accept()))
  // Any Content-Security-Policy violation (an inline script, eval, a foreign fetch) is recorded.
  await page.evaluateOnNewDocument(() => {
    window.__cspViolations = []
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`))
  })
  await page.goto(studio.url)
  await page.waitForSelector('html[data-ready]')
  console.log(`screenshots: ${shots}`)
})

after(async () => {
  if (browser) await browser.close()
  if (studio) await studio.close()
})

async function shot(name) {
  const file = join(shots, `${name}.png`)
  await page.screenshot({ path: file })
  console.log(`screenshot: ${file}`)
  return file
}

/** Opens `slug` from the list and waits until the editor shows its file. */
async function open(slug) {
  // Clicked in the page: the list may be redrawn by a change event at any moment.
  await page.waitForSelector(`button.bds-se-item[data-slug="${slug}"]`)
  await page.$eval(`button.bds-se-item[data-slug="${slug}"]`, (b) => b.click())
  await page.waitForFunction((s) => document.querySelector('.bds-se-title').textContent === `${s}.py`, {}, slug)
}

/** Replaces the editor's whole text, as a paste would. */
async function setText(text) {
  await page.click('.cm-content')
  await page.keyboard.down('Control')
  await page.keyboard.press('a')
  await page.keyboard.up('Control')
  await page.keyboard.press('Backspace')
  await page.keyboard.sendCharacter(text)
}

async function chord(key) {
  await page.keyboard.down('Control')
  await page.keyboard.press(key)
  await page.keyboard.up('Control')
}

// The editor's text, from the panel's handle (the studio puts it on window.bdsStudio).
const editorText = () => page.evaluate(() => window.bdsStudio.panel.text())

/** The preview frame's body HTML, once the preview shows `wanted`. */
async function previewHtml(wanted) {
  for (let i = 0; i < 400; i++) {
    const frame = page.frames().find((f) => f !== page.mainFrame())
    if (frame) {
      const html = await frame.evaluate(() => document.body && document.body.innerHTML).catch(() => '')
      if (html && html.includes(wanted)) return html
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`the preview never showed ${wanted}`)
}

test('the list shows the bundled scripts, grouped by kind', async () => {
  const slugs = await page.$$eval('button.bds-se-item', (els) => els.map((e) => e.dataset.slug))
  for (const s of ['kbd', 'toc', 'youtube', 'html_utils', 'clean-title']) assert.ok(slugs.includes(s), s)
  const groups = await page.$$eval('.bds-se-group h3', (els) => els.map((e) => e.textContent.replace(/ \(\d+\)/, '')))
  assert.deepEqual(groups, ['Macros', 'Transforms', 'Utilities'])
  // Filter by name.
  await page.type('.bds-se-filter', 'tab')
  const filtered = await page.$$eval('button.bds-se-item', (els) => els.map((e) => e.dataset.slug))
  // By slug or title: toc's title is "Table of contents".
  assert.deepEqual(filtered.sort(), ['tab', 'table', 'tabs', 'toc'])
  await page.$eval('.bds-se-filter', (el) => {
    el.value = ''
    el.dispatchEvent(new Event('input'))
  })
  await shot('list')
})

test('open kbd, edit it, Ctrl+Enter: the preview shows the new <kbd>', async () => {
  await open('kbd')
  assert.match(await editorText(), /def render/)
  await setText('def render(c):\n    return {"html": "<kbd>NEW</kbd> " + c["args"][0]}\n')
  await page.waitForFunction(() => document.querySelector('.bds-se-dirty').textContent.includes('unsaved'))
  await page.$eval('.bds-se-context', (el) => (el.value = '{"args": ["Ctrl"]}'))
  await page.click('.cm-content')
  await chord('Enter')
  const html = await previewHtml('NEW')
  assert.equal(html, '<kbd>NEW</kbd> Ctrl')
  await page.waitForFunction(() => document.querySelector('.bds-se-summary').textContent.startsWith('OK'))
  await shot('kbd-run')
  // The file on disk is untouched: Run uses the buffer.
  assert.doesNotMatch(readFileSync(join(dir, 'scripts', 'kbd.py'), 'utf8'), /NEW/)
})

test('a macro cannot run script in the app: the preview sandbox holds', async () => {
  await open('badge')
  await setText(
    'def render(c):\n    return {"html": "<img src=x onerror=\\"parent.document.title=\'pwned\';top.pwned=1\\"><script>parent.pwned=2;top.document.title=\'pwned\'</script><p id=hostile>shown</p>"}\n',
  )
  await chord('Enter')
  await previewHtml('hostile')
  await new Promise((r) => setTimeout(r, 500))
  assert.equal(await page.evaluate(() => typeof window.pwned), 'undefined')
  assert.equal(await page.title(), 'bds studio')
  const frame = page.frames().find((f) => f !== page.mainFrame())
  assert.equal(await frame.evaluate(() => typeof window.pwned), 'undefined')
  assert.equal(await page.$eval('iframe.bds-se-preview', (f) => f.getAttribute('sandbox')), '')
})

test('a syntax error saved is shown at its line', async () => {
  nextPrompt = 'broken'
  await page.click('.bds-se-new')
  await page.waitForFunction(() => document.querySelector('.bds-se-title').textContent === 'broken.py')
  await setText('def render(c):\n    x = 1\n    return {"html": (}\n')
  await chord('s')
  await page.waitForSelector('.bds-se-banner[data-kind="compile"]')
  const line = await page.$eval('.bds-se-errline', (el) => el.dataset.errorLine)
  assert.equal(line, '3')
  assert.match(await page.$eval('.bds-se-banner', (el) => el.textContent), /line 3/)
  assert.equal(await page.$eval('button.bds-se-item[data-slug="broken"] .bds-se-badge', (el) => el.dataset.status), 'error')
  await shot('compile-error')
})

test("a runtime error's traceback frames move the cursor to their line", async () => {
  await setText('def helper(x):\n    y = x * 2\n    return 1 / 0\n\ndef render(c):\n    return {"html": str(helper(1))}\n')
  await chord('Enter')
  await page.waitForSelector('.bds-se-frame[data-line="3"]')
  assert.match(await page.$eval('.bds-se-summary', (el) => el.textContent), /runtime ZeroDivisionError: division by zero/)
  assert.equal(await page.$eval('.bds-se-errline', (el) => el.dataset.errorLine), '3')
  await page.click('.bds-se-frame[data-line="6"]')
  const active = await page.evaluate(() => [...document.querySelectorAll('.cm-content .cm-line')].findIndex((l) => l.classList.contains('cm-activeLine')) + 1)
  assert.equal(active, 6)
  await shot('traceback')
})

test('an outside edit updates the list and prompts to reload the open script', async () => {
  await open('abbr')
  writeFileSync(join(dir, 'scripts', 'late.py'), 'def render(c):\n    return {"html": "late"}\n')
  await page.waitForSelector('button.bds-se-item[data-slug="late"]', { timeout: 30000 })
  const disk = readFileSync(join(dir, 'scripts', 'abbr.py'), 'utf8') + '\n# edited outside\n'
  writeFileSync(join(dir, 'scripts', 'abbr.py'), disk)
  await page.waitForSelector('.bds-se-banner[data-kind="external"]', { timeout: 30000 })
  await shot('external-change')
  const reload = await page.$$('.bds-se-banner button')
  await reload[0].click()
  // The buffer was not dirty before the reload either: wait for the reloaded text itself (the
  // reload reads the file through the engine, which can take a while on a loaded machine).
  await page.waitForFunction((d) => window.bdsStudio.panel.text() === d, {}, disk)
  assert.equal(await page.$eval('.bds-se-dirty', (e) => e.textContent), '')
  assert.equal(await editorText(), disk)
})

test('a save conflict keeps both versions reachable', async () => {
  await open('callout')
  const mine = 'def render(c):\n    return {"html": "mine"}\n'
  await setText(mine)
  const theirs = 'def render(c):\n    return {"html": "theirs"}\n'
  writeFileSync(join(dir, 'scripts', 'callout.py'), theirs)
  await page.waitForSelector('.bds-se-banner[data-kind="external"]', { timeout: 30000 })
  await page.click('.cm-content')
  await chord('s')
  await page.waitForSelector('.bds-se-banner[data-kind="conflict"]')
  await shot('conflict')
  assert.equal(readFileSync(join(dir, 'scripts', 'callout.py'), 'utf8'), theirs, 'nothing was overwritten')
  // Reload from disk, keeping mine aside…
  const [, reload] = await page.$$('.bds-se-banner button')
  await reload.click()
  await page.waitForSelector('.bds-se-banner[data-kind="stash"]')
  assert.equal(await editorText(), theirs)
  // …and bring mine back, then overwrite on purpose.
  const [restore] = await page.$$('.bds-se-banner button')
  await restore.click()
  await page.waitForFunction((m) => window.bdsStudio.panel.text() === m, {}, mine)
  await chord('s')
  await page.waitForFunction(() => !document.querySelector('.bds-se-dirty').textContent)
  assert.equal(readFileSync(join(dir, 'scripts', 'callout.py'), 'utf8'), mine)
})

test('a transform shows the post before and after, as a diff', async () => {
  await open('clean-title')
  await page.$eval('.bds-se-context', (el) => (el.value = JSON.stringify({ post: { title: '  Hello   World | My Site ', content: 'x', meta: { site_name: 'My Site' } } })))
  await page.click('.cm-content')
  await chord('Enter')
  await page.waitForSelector('.bds-se-diff')
  const lines = await page.$$eval('.bds-se-diff span', (els) => els.map((e) => [e.className, e.textContent.trim()]))
  assert.deepEqual(
    lines.filter(([c]) => c !== 'same'),
    [
      ['del', '-   "title": "  Hello   World | My Site ",'],
      ['add', '+   "title": "Hello World",'],
    ],
  )
  await shot('transform-diff')
})

test('a bundled script the user edited, with a newer version shipped, says an update is available', async () => {
  const file = join(dir, 'scripts', 'vimeo.py')
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^# version: \d+$/m, '# version: 0'))
  await page.waitForSelector('button.bds-se-item[data-slug="vimeo"] .bds-se-badge[data-status="update"]', { timeout: 30000 })
})

test('the page ran under its Content-Security-Policy without a violation', async () => {
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), [])
})

test('disable, rename and delete (to the trash, said so) from the toolbar', async () => {
  await open('late')
  await page.$$eval('.bds-se-toolbar button', (bs) => bs.find((b) => b.textContent === 'Disable').click())
  await page.waitForSelector('button.bds-se-item[data-slug="late"] .bds-se-badge[data-status="off"]')
  assert.match(readFileSync(join(dir, 'scripts', 'late.py'), 'utf8'), /^# enabled: false$/m)
  nextPrompt = 'later'
  await page.$$eval('.bds-se-toolbar button', (bs) => bs.find((b) => b.textContent === 'Rename…').click())
  await page.waitForFunction(() => document.querySelector('.bds-se-title').textContent === 'later.py')
  assert.equal(existsSync(join(dir, 'scripts', 'late.py')), false)
  assert.equal(existsSync(join(dir, 'scripts', 'later.py')), true)
  await page.$$eval('.bds-se-toolbar button', (bs) => bs.find((b) => b.textContent === 'Delete…').click())
  await page.waitForFunction(() => /moved to the trash/.test(document.querySelector('.bds-se-banner').textContent))
  assert.equal(existsSync(join(dir, 'scripts', 'later.py')), false)
  assert.match(await page.$eval('.bds-se-banner', (el) => el.textContent), /\.bds[\\/]trash/)
  await page.waitForFunction(() => !document.querySelector('button.bds-se-item[data-slug="later"]'))
})

test('keyboard: the list and the output tabs are reachable with Tab and arrow keys', async () => {
  await page.focus('.bds-se-filter')
  await page.keyboard.press('Tab')
  const first = await page.evaluate(() => document.activeElement.dataset.slug)
  assert.ok(first, 'Tab reaches the list')
  await page.keyboard.press('ArrowDown')
  const second = await page.evaluate(() => document.activeElement.dataset.slug)
  assert.notEqual(second, first)
  await page.focus('[role="tab"][aria-selected="true"]')
  await page.keyboard.press('ArrowRight')
  const selected = await page.$eval('[role="tab"][aria-selected="true"]', (el) => el.textContent)
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'tab')
  assert.equal(await page.evaluate(() => document.activeElement.textContent), selected)
})

function request(path, headers = {}, method = 'GET', body = null) {
  return new Promise((ok, fail) => {
    const req = http.request({ host: '127.0.0.1', port: studio.port, path, method, headers }, (res) => {
      res.resume()
      res.on('end', () => ok(res.statusCode))
    })
    req.on('error', fail)
    if (body) req.write(body)
    req.end()
  })
}

test('the studio refuses requests without the token, from another Host or Origin: 403', async () => {
  const t = studio.token
  const origin = `http://127.0.0.1:${studio.port}`
  const json = { 'content-type': 'application/json', 'x-bds-token': t, origin }
  const body = JSON.stringify({ channel: 'bds:scripts:list', args: [] })
  assert.equal(await request(`/?t=${t}`), 200)
  assert.equal(await request('/'), 403, 'no token')
  assert.equal(await request('/?t=wrong'), 403, 'wrong token')
  assert.equal(await request(`/?t=${t}`, { host: `evil.example:${studio.port}` }), 403, 'DNS rebinding: another Host')
  assert.equal(await request(`/?t=${t}`, { origin: 'https://evil.example' }), 403, 'foreign Origin')
  assert.equal(await request(`/?t=${t}`, { 'sec-fetch-site': 'cross-site' }), 403, 'cross-site')
  assert.equal(await request('/api/invoke', json, 'POST', body), 200)
  assert.equal(await request('/api/invoke', { ...json, origin: 'https://evil.example' }, 'POST', body), 403)
  const { origin: _, ...noOrigin } = json
  assert.equal(await request('/api/invoke', noOrigin, 'POST', body), 403, 'the API needs an Origin')
  assert.equal(await request('/api/invoke', { ...json, 'x-bds-token': 'nope' }, 'POST', body), 403)
  assert.equal(await request('/api/invoke', { ...json, 'content-type': 'text/plain' }, 'POST', body), 403)
  // From a page on another origin, the browser's own attempt fails and changes nothing.
  const other = await browser.newPage()
  await other.goto('about:blank')
  const outcome = await other.evaluate(
    (url) =>
      fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ channel: 'bds:scripts:create', args: ['evil', 'x = 1\n'] }) })
        .then((r) => `status ${r.status}`)
        .catch(() => 'refused'),
    `${origin}/api/invoke?t=${t}`,
  )
  assert.ok(['refused', 'status 0'].includes(outcome), outcome)
  assert.equal(existsSync(join(dir, 'scripts', 'evil.py')), false)
  await other.close()
})
