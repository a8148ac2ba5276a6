// Builds the addon in the workspace's one release profile (sharing target/ with everything
// else, so nothing is compiled twice), copies it to target/release/bds.node beside bds-worker
// (the layout an Electron app ships), and generates the TypeScript declarations from the Rust
// side with @napi-rs/cli into target/release/index.d.ts.
//
//   node scripts/build.mjs            build; the tests compare the declarations with index.d.ts
//   node scripts/build.mjs --write    build and update the committed index.d.ts
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateTypeDef } from '@napi-rs/cli'

const here = dirname(fileURLToPath(import.meta.url))
const pkg = resolve(here, '..')
const root = resolve(pkg, '..')
const release = join(root, 'target', 'release')
const typeDefDir = join(root, 'target', 'napi-typedefs')
mkdirSync(typeDefDir, { recursive: true })

const env = { ...process.env, NAPI_TYPE_DEF_TMP_FOLDER: typeDefDir }
// The declarations are written while the macros expand: force that when they are missing.
if (!existsSync(join(typeDefDir, 'bds-napi'))) env.NAPI_FORCE_BUILD_BDS_NAPI = String(Date.now())
const cargo = spawnSync(process.env.CARGO ?? 'cargo', ['build', '--release', '-p', 'bds-napi', '--locked'], {
  cwd: root,
  env,
  stdio: 'inherit',
})
if (cargo.status !== 0) process.exit(cargo.status ?? 1)

const lib = { linux: 'libbds_napi.so', darwin: 'libbds_napi.dylib', win32: 'bds_napi.dll' }[process.platform]
if (!lib) throw new Error(`unsupported platform ${process.platform}`)
copyFileSync(join(release, lib), join(release, 'bds.node'))

// String enums as unions of string literals, so `err.code === 'timeout'` type-checks.
const { dts } = await generateTypeDef({ typeDefDir, cwd: pkg, constEnum: false })
writeFileSync(join(release, 'index.d.ts'), dts)
const committed = join(pkg, 'index.d.ts')
if (process.argv.includes('--write')) {
  writeFileSync(committed, dts)
  console.log(`wrote ${committed}`)
} else if (!existsSync(committed) || readFileSync(committed, 'utf8') !== dts) {
  console.warn(`note: ${committed} differs from the Rust side; run \`make addon-dts\` and commit it`)
}
console.log(`built ${join(release, 'bds.node')}`)
