'use strict'
// Loads the native addon. Where it is looked for, in order:
//   $BDS_ADDON                       an explicit path (development, tests)
//   ./bds.node                       beside this file: the layout an Electron app ships, with
//                                    bds-worker and bds_guest.wasm in the same folder
//   ../target/release/bds.node       this repository after `make addon`
// The API and its types are generated from the Rust side: see index.d.ts.
const { existsSync } = require('node:fs')
const { join } = require('node:path')

function locate() {
  if (process.env.BDS_ADDON) return process.env.BDS_ADDON
  const candidates = [join(__dirname, 'bds.node'), join(__dirname, '..', 'target', 'release', 'bds.node')]
  const found = candidates.find((p) => existsSync(p))
  if (!found) {
    throw new Error(`bds: the native addon is not built: looked at ${candidates.join(', ')}; run \`make addon\``)
  }
  return found
}

module.exports = require(locate())
