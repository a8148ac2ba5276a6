// Bundles the script editor panel with esbuild:
//   ui/dist/bds-script-ui.mjs   ES module: `import { mountScriptEditor } from '@bds/script/ui'`
//   ui/dist/bds-script-ui.js    a plain <script src> for a page without a bundler (global BdsScriptUI)
//   ui/dist/bds-script-ui.css   the panel's styles (a <link rel="stylesheet">)
// Everything CodeMirror needs is inside: the app adds no dependency. No eval, no inline script.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const common = {
  entryPoints: [join(here, 'src', 'index.js')],
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ['chrome120'],
  legalComments: 'linked',
  logLevel: 'warning',
}
await Promise.all([
  build({ ...common, format: 'esm', outfile: join(here, 'dist', 'bds-script-ui.mjs') }),
  build({ ...common, format: 'iife', globalName: 'BdsScriptUI', outfile: join(here, 'dist', 'bds-script-ui.js') }),
  // The studio's page script (napi-binding/studio): the preload's API over HTTP, and the panel.
  build({ ...common, entryPoints: [join(here, '..', 'studio', 'client.js')], format: 'iife', external: ['electron'], outfile: join(here, 'dist', 'studio.js') }),
  build({ entryPoints: [join(here, 'src', 'style.css')], bundle: true, minify: true, outfile: join(here, 'dist', 'bds-script-ui.css'), logLevel: 'warning' }),
])
console.log(`built ${join(here, 'dist')}`)
