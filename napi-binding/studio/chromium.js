'use strict'
// Debian's chromium (or BDS_CHROMIUM) through puppeteer-core, as the panel's browser tests, its
// benchmark (benches/ui.mjs) and the README's screenshot (screenshot.js) drive it.
const { existsSync } = require('node:fs')
const puppeteer = require('puppeteer-core')

const CHROMIUM = process.env.BDS_CHROMIUM || '/usr/bin/chromium'

/** A headless chromium whose pages are `width` × `height`. */
function launchChromium({ width, height }) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set BDS_CHROMIUM)`)
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', `--window-size=${width},${height}`],
    defaultViewport: { width, height },
  })
}

module.exports = { launchChromium }
