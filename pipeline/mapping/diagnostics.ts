// Problems found in a mapping file, located at the YAML key or value that causes them,
// so an editor or a terminal can jump straight there.

import type { ProblemCode } from '../codes.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  file: string;
  /** 1-based line in the mapping file. */
  line: number;
  /** 1-based column in the mapping file. */
  col: number;
  severity: Severity;
  /** Stable code: E_UNKNOWN_KEY, E_UNKNOWN_FIELD, E_BAD_REGEX, W_NO_TZ, ... */
  code: ProblemCode;
  message: string;
}

/** `file:line:col: error CODE: message` — the shape compilers use, so terminals and editors link it. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity} ${d.code}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}
