// The main process's side of the IPC contract (see main.js).
import type { Engine } from '../index'
export { CHANNELS } from './preload'
export type { BdsErrorCode, BdsErrorInfo, BdsResult, BdsScriptsApi } from './preload'

/** The part of Electron's `ipcMain` the handlers use. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: any, ...args: any[]) => Promise<unknown> | unknown): void
  removeHandler(channel: string): void
}

/** The part of Electron's `WebContents` change events use. */
export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void
  isDestroyed?(): boolean
}

export interface RegisterOptions {
  /** Who hears change events: a WebContents, a list, or a function returning them. */
  webContents?: WebContentsLike | WebContentsLike[] | (() => WebContentsLike | WebContentsLike[] | undefined)
  /** Return false to refuse a request (e.g. check `event.senderFrame.url`). */
  isTrusted?(event: any): boolean
}

/** Registers every bds request handler and change forwarding; returns `dispose()`. */
export declare function registerHandlers(ipcMain: IpcMainLike, engine: Engine, options?: RegisterOptions): () => void
