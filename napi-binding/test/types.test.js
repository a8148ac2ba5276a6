'use strict'
// The TypeScript declarations: generated from the Rust side, committed, and type-correct.
const test = require('node:test')
const assert = require('node:assert/strict')
const { readFileSync } = require('node:fs')
const { join } = require('node:path')
const { spawnSync } = require('node:child_process')

const pkg = join(__dirname, '..')

test('index.d.ts is what the Rust side generates (run `make addon-dts` after changing the API)', () => {
  const generated = readFileSync(join(pkg, '..', 'target', 'release', 'index.d.ts'), 'utf8')
  const committed = readFileSync(join(pkg, 'index.d.ts'), 'utf8')
  assert.equal(committed, generated)
})

test('the generated and hand-written declarations type-check together (tsc --strict)', () => {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [pkg] })
  const out = spawnSync(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(out.stdout + out.stderr, '')
  assert.equal(out.status, 0)
})

test('every class and method of the addon is declared, and nothing more', () => {
  const addon = require('..')
  const dts = readFileSync(join(pkg, 'index.d.ts'), 'utf8')
  // Classes, and string enums (exported as objects at run time, declared as unions of their
  // values so that `err.code === 'timeout'` type-checks).
  const declared = (re) => [...dts.matchAll(re)].map((m) => m[1])
  const classes = declared(/^export declare class (\w+)/gm)
  const unions = declared(/^export type (\w+) = '/gm)
  assert.deepEqual(Object.keys(addon).sort(), [...classes, ...unions].sort())
  for (const name of unions) {
    const values = declared(new RegExp(`^export type ${name} = (.*)$`, 'gm'))[0].split(' | ').map((v) => JSON.parse(v.replace(/'/g, '"')))
    assert.deepEqual(Object.values(addon[name]).sort(), values.sort(), name)
  }
  const body = dts.slice(dts.indexOf('export declare class Engine'), dts.indexOf('\n}\n', dts.indexOf('export declare class Engine')))
  const members = [...body.matchAll(/^  (?:static )?(?:get )?(\w+)\(/gm)].map((m) => m[1]).sort()
  const proto = Object.getOwnPropertyNames(addon.Engine.prototype).filter((n) => n !== 'constructor')
  const statics = Object.getOwnPropertyNames(addon.Engine).filter((n) => typeof addon.Engine[n] === 'function')
  assert.deepEqual([...proto, ...statics].sort(), members)
})
