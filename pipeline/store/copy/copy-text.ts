// One value in PostgreSQL's COPY text format: \N for NULL; backslash, tab, newline and carriage
// return escaped (they delimit fields and rows); numbers as JavaScript's shortest round-trip form.

export function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  const s = String(v);
  if (s.includes('\0')) throw new Error('a text value holds a NUL character, which PostgreSQL text cannot store');
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

export function copyLine(values: readonly unknown[]): string {
  return values.map(copyField).join('\t') + '\n';
}
