// Shared by the mapping tests: inline YAML → spec → compiled mapping → mapped rows.

import { compileMapping, type CompiledMapping, type CsvRowMapper, type RowMapResult } from '../../pipeline/mapping/compile.js';
import { formatDiagnostic } from '../../pipeline/mapping/diagnostics.js';
import { parseMappingText, type LoadedMapping } from '../../pipeline/mapping/load.js';
import type { MappingSpec } from '../../pipeline/mapping/spec.js';

/** Strips the common indentation of a template literal so YAML can be written inline (raw: backslashes reach the YAML as written). */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.raw.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

export function load(text: string, path = 'mappings/acme/feed.yaml'): LoadedMapping {
  return parseMappingText(text, path, { checkLocation: false });
}

export function specOf(text: string): MappingSpec {
  const loaded = load(text);
  if (loaded.spec === undefined) throw new Error('mapping has errors:\n' + loaded.diagnostics.map(formatDiagnostic).join('\n'));
  return loaded.spec;
}

export function compile(text: string): CompiledMapping {
  const loaded = load(text);
  if (loaded.spec === undefined) throw new Error('mapping has errors:\n' + loaded.diagnostics.map(formatDiagnostic).join('\n'));
  return compileMapping(loaded.spec, loaded.hash);
}

export function bind(text: string, header: string[], headerLine = 1): CsvRowMapper {
  const bound = compile(text).bindCsvHeader(header, headerLine);
  if ('error' in bound) throw new Error(`bind failed: ${bound.error.message}`);
  return bound;
}

/** Maps rows given as delimited strings (line numbers start after the header). */
export function mapRows(mapper: CsvRowMapper, rows: string[], delimiter = ',', firstLine = 2): RowMapResult[] {
  return rows.map((r, i) => mapper.mapRow(r.split(delimiter), firstLine + i, 'test.csv'));
}

/** A minimal stand-in for the XML reader's records: paths → values. */
export function fakeXml(line: number, values: Record<string, string | string[]>) {
  return {
    line,
    get(path: string): string | undefined {
      const v = values[path];
      return Array.isArray(v) ? v[0] : v;
    },
    getAll(path: string): string[] {
      const v = values[path];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    },
  };
}
