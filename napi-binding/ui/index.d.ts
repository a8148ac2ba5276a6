// The script editor panel: `import { mountScriptEditor } from '@bds/script/ui'` and
// `@bds/script/ui/style.css`.
import type { BdsScriptsApi } from '../ipc/preload'

export interface MountOptions {
  /** Replaces `window.prompt` (names for new and renamed scripts). */
  prompt?: (message: string, value: string) => string | null
  /** Replaces `window.confirm` (dropping unsaved changes, deleting). */
  confirm?: (message: string) => boolean
}

export interface ScriptEditor {
  /** Resolves once the list, problems and figures are shown. */
  ready: Promise<void>
  /** Opens a script (asks before dropping unsaved changes). Resolves false if it did not. */
  open(slug: string): Promise<boolean>
  /** The editor's text, unsaved changes included. */
  text(): string
  /** Whether the open script has unsaved changes. */
  dirty(): boolean
  /** Reloads the list, the problems and the figures. */
  refresh(): Promise<void>
  /** Removes the panel and stops listening for changes. */
  destroy(): void
}

/**
 * Mounts the panel in `element`. `api` is the preload's `window.bds.scripts`: the panel reaches
 * the engine through it and nothing else.
 */
export function mountScriptEditor(element: HTMLElement, api: BdsScriptsApi, options?: MountOptions): ScriptEditor
