'use strict'
const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { createHash } = require('node:crypto')

const { Engine } = require('..')

const REPO = join(__dirname, '..', '..')

/** A fresh project folder, removed when the test ends. */
function tempProject(t) {
  const dir = mkdtempSync(join(tmpdir(), 'bds-napi-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** An engine on a fresh project seeded with the bundled scripts, closed when the test ends. */
async function openProject(t, options = {}) {
  const dir = tempProject(t)
  const engine = await Engine.open(dir, { create: true, workers: 1, ...options })
  t.after(() => engine.close())
  return { dir, engine }
}

/** Resolves with the rejection of `promise`; fails if it resolves. */
async function rejection(promise) {
  try {
    const value = await promise
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
  } catch (err) {
    if (err && err.message && err.message.startsWith('expected a rejection')) throw err
    return err
  }
}

/** Polls `probe` until it returns a truthy value, or fails after `ms`. */
async function waitFor(probe, ms, what) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex')

module.exports = { Engine, REPO, tempProject, openProject, rejection, waitFor, sha256 }
