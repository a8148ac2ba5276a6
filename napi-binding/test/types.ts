// Compile-only (`npm run typecheck`): the generated declarations and the hand-written IPC
// ones fit together, and read the way an Electron app would use them.
import { Engine, type BdsErrorFields, type ErrorCode, type RunResult } from '../index'
import { registerHandlers, CHANNELS, type BdsResult, type IpcMainLike } from '../ipc/index'
import type { BdsScriptsApi } from '../ipc/preload'
import { mountScriptEditor, type ScriptEditor } from '../ui/index'

export async function mainProcess(ipcMain: IpcMainLike, send: (channel: string, payload: unknown) => void) {
  const engine: Engine = await Engine.open('/project', { create: true, workers: 2, macroDeadlineMs: 250 })
  const entries = await engine.listScripts({ kind: 'macro' })
  const slugs: string[] = entries.map((e) => e.slug)
  try {
    const run: RunResult = await engine.runScript(slugs[0], { params: { a: 1 } }, { deadlineMs: 500 })
    const html: unknown = run.value.html
    void html
  } catch (e) {
    const err = e as Error & BdsErrorFields
    const code: ErrorCode = err.code
    if (code === 'runtime' && err.traceback) console.log(err.traceback.map((f) => `${f.file}:${f.line}`))
  }
  const id: number = engine.onChange((change) => send(CHANNELS.changed, change))
  engine.offChange(id)
  const dispose: () => void = registerHandlers(ipcMain, engine, { webContents: () => [], isTrusted: () => true })
  dispose()
  await engine.close()
}

export async function renderer(scripts: BdsScriptsApi = window.bds.scripts) {
  const res: BdsResult<RunResult> = await scripts.run('toc', { post: { content: '<h2>x</h2>' } })
  if (res.ok) {
    console.log(res.value.stdout)
  } else if (res.error.code === 'timeout' || res.error.code === 'forbidden') {
    console.log(res.error.message, res.error.line)
  }
  const stop = scripts.onChanged((c) => console.log(c.kind, c.slug, c.from))
  stop()
}

export async function panel(element: HTMLElement, scripts: BdsScriptsApi = window.bds.scripts) {
  const editor: ScriptEditor = mountScriptEditor(element, scripts, { confirm: () => true, prompt: (_m, v) => v })
  await editor.ready
  const opened: boolean = await editor.open('kbd')
  const unsaved: boolean = editor.dirty()
  console.log(opened, unsaved, editor.text().length)
  await editor.refresh()
  editor.destroy()
}
