// `mapping check` against the mapping's own sample files (its `tests:` inputs): the problems
// only a real file shows — a named column absent from the header (E_MISSING_COLUMN), a header
// row or XML record path that matches nothing — as diagnostics located in the mapping file.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compileMapping } from './compile.js';
import type { Diagnostic } from './diagnostics.js';
import { dryRun } from './dry-run.js';
import type { MappingSpec } from './spec.js';
import { pointer, readYaml } from './yaml-source.js';

/** Whole-file findings that mean the mapping does not fit its own sample. */
export const SAMPLE_CODES = new Set(['E_MISSING_COLUMN', 'E_HEADER_NOT_FOUND', 'E_RECORD_PATH_NO_MATCH']);

/**
 * @param mappingPath the YAML file (for locations)
 * @param root what `tests[].input` paths are relative to (the project folder)
 */
export async function checkSamples(mappingPath: string, spec: MappingSpec, hash: string, root: string): Promise<Diagnostic[]> {
  const tests = spec.tests ?? [];
  if (tests.length === 0 || spec.format === 'document') return [];
  const src = readYaml(readFileSync(mappingPath, 'utf8'));
  const at = (ptr: string): { line: number; col: number } => {
    const loc = src.locs.get(ptr);
    const offset = loc?.key?.[0] ?? loc?.value?.[0] ?? 0;
    return src.position(offset);
  };
  const compiled = compileMapping(spec, hash);
  const out: Diagnostic[] = [];
  for (let i = 0; i < tests.length; i++) {
    const input = path.resolve(root, tests[i].input);
    if (!existsSync(input)) continue;
    const res = await dryRun(compiled, spec, input, { limit: 0, errorLimit: 20 });
    for (const e of res.errors) {
      if (!SAMPLE_CODES.has(e.code)) continue;
      let ptr = pointer('tests', i, 'input');
      if (e.field !== undefined) {
        const re = new RegExp(`^/records/\\d+/fields/${e.field.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/from$`);
        ptr = [...src.locs.keys()].find((k) => re.test(k)) ?? ptr;
      }
      const { line, col } = at(ptr);
      out.push({ file: mappingPath, line, col, severity: 'error', code: e.code, message: `with sample ${tests[i].input}: ${e.message}` });
    }
  }
  return out;
}
