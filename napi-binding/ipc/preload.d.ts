// The renderer's API, `window.bds.scripts` (see preload.js). Written by hand over the types
// generated from the Rust side (../index.d.ts); `npm run typecheck` checks they agree.
import type {
  ChangeEvent,
  Diagnostics,
  ListFilter,
  MacroMetrics,
  RunOptions,
  RunResult,
  ScriptEntry,
  ScriptSource,
  TraceFrame,
} from '../index'

/** Codes of the engine's errors, plus the IPC layer's own `forbidden` and `internal`. */
export type BdsErrorCode = import('../index').ErrorCode | 'forbidden' | 'internal'

/** An error as the renderer receives it: data, not an Error (IPC drops an Error's fields). */
export interface BdsErrorInfo {
  code: BdsErrorCode
  message: string
  /** The error's own message (for a Python exception, `str(exc)`). */
  detail?: string
  script?: string
  excType?: string
  line?: number
  column?: number
  traceback?: TraceFrame[]
  stdout?: string
  currentHash?: string
}

export type BdsResult<T> = { ok: true; value: T } | { ok: false; error: BdsErrorInfo }

export interface BdsScriptsApi {
  list(filter?: ListFilter): Promise<BdsResult<ScriptEntry[]>>
  read(slug: string): Promise<BdsResult<ScriptSource>>
  create(slug: string, source: string): Promise<BdsResult<ScriptEntry>>
  /** `baseHash`: the `contentHash` the editor loaded; a changed file answers `conflict`. */
  save(slug: string, source: string, baseHash?: string): Promise<BdsResult<ScriptEntry>>
  setEnabled(slug: string, enabled: boolean): Promise<BdsResult<ScriptEntry>>
  /** Moves the file to the project's trash; resolves with where it went. */
  delete(slug: string): Promise<BdsResult<string>>
  rename(from: string, to: string): Promise<BdsResult<ScriptEntry>>
  /** The Run button on the saved script. Limits: at most 30 s and 512 MiB. */
  run(slug: string, context?: Record<string, unknown>, options?: RunOptions): Promise<BdsResult<RunResult>>
  /** The Run button on the editor's unsaved buffer; `name` labels tracebacks. */
  runSource(
    source: string,
    context?: Record<string, unknown>,
    options?: RunOptions,
    name?: string,
  ): Promise<BdsResult<RunResult>>
  diagnostics(): Promise<BdsResult<Diagnostics>>
  metrics(): Promise<BdsResult<MacroMetrics[]>>
  /** Calls `callback` for every script change; returns a function that stops it. */
  onChanged(callback: (change: ChangeEvent) => void): () => void
}

export declare const CHANNELS: Readonly<{
  list: 'bds:scripts:list'
  read: 'bds:scripts:read'
  create: 'bds:scripts:create'
  save: 'bds:scripts:save'
  setEnabled: 'bds:scripts:set-enabled'
  delete: 'bds:scripts:delete'
  rename: 'bds:scripts:rename'
  run: 'bds:scripts:run'
  runSource: 'bds:scripts:run-source'
  diagnostics: 'bds:scripts:diagnostics'
  metrics: 'bds:scripts:metrics'
  changed: 'bds:scripts:changed'
}>

/** The part of Electron's `ipcRenderer` the API uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<any>
  on(channel: string, listener: (event: unknown, ...args: any[]) => void): unknown
  removeListener(channel: string, listener: (...args: any[]) => void): unknown
}

export declare function createScriptsApi(ipcRenderer: IpcRendererLike): BdsScriptsApi

declare global {
  interface Window {
    bds: { scripts: BdsScriptsApi }
  }
}
