'use strict'
const { mkdtempSync, readFileSync, readdirSync, rmSync } = require('node:fs')
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

/** Pids of this process's live child processes (the workers), from /proc. */
function childPids() {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        return Number(ppid) === process.pid && state !== 'Z'
      } catch {
        return false
      }
    })
    .map(Number)
}

/** Names of this process's threads, from /proc (Linux cuts them at 15 bytes). */
function threadNames() {
  return readdirSync('/proc/self/task').map((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()
    } catch {
      return ''
    }
  })
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex')

module.exports = { Engine, REPO, tempProject, openProject, rejection, waitFor, sha256, childPids, threadNames }
