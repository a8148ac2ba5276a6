'use strict'
// Writes a screenshot of the studio: `node napi-binding/studio/screenshot.js OUT.png`
// (Debian's chromium; BDS_CHROMIUM to use another). The README's picture is made with it.
const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { startStudio } = require('./server.js')
const { launchChromium } = require('./chromium.js')

async function main(out) {
  const dir = mkdtempSync(join(tmpdir(), 'bds-studio-shot-'))
  const studio = await startStudio(dir, { engineOptions: { workers: 1, watch: false } })
  const browser = await launchChromium({ width: 1280, height: 760 })
  try {
    const page = await browser.newPage()
    await page.goto(studio.url)
    await page.waitForSelector('html[data-ready]')
    await page.$eval('button.bds-se-item[data-slug="youtube"]', (b) => b.click())
    await page.waitForFunction(() => document.querySelector('.bds-se-title').textContent === 'youtube.py')
    await page.$eval('.bds-se-context', (el) => (el.value = JSON.stringify({ args: ['dQw4w9WgXcQ'], params: { title: 'A talk' } }, null, 2)))
    await page.$eval('.bds-se-toolbar button:nth-child(2)', (b) => b.click())
    await page.waitForFunction(() => document.querySelector('.bds-se-summary').textContent.startsWith('OK'))
    await page.$eval('#bds-se-tab-result', (b) => b.click())
    await page.screenshot({ path: out })
    console.log(`wrote ${out}`)
  } finally {
    await browser.close()
    await studio.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

main(process.argv[2] || 'studio.png').catch((err) => {
  console.error(err)
  process.exit(1)
})
