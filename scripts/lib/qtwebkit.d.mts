// Types of scripts/lib/qtwebkit.mjs for the TypeScript tests that use it.
export const PYTHON: string;
export const QTWEBKIT_MODULE: string;
export const DONE_STATUS: string;
export function qtwebkitVersion(): string | undefined;
export function runPage(url: string, options?: {
  timeoutMs?: number;
  screenshot?: string;
  width?: number;
  /** JavaScript giving a string (JSON) once the page is done; default `JSON.stringify(window.cometkitResult)`. */
  result?: string;
  /** A script run in the page before its own scripts. */
  init?: string;
}): Promise<{ result: unknown; console: string[] }>;
