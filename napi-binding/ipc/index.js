'use strict'
// The IPC contract between Electron's main process and the renderer. Main process:
//   const { registerHandlers, CHANNELS } = require('@bds/script/ipc')
// Renderer: `window.bds.scripts`, exposed by '@bds/script/preload' (ipc/preload.js).
module.exports = require('./main.js')
