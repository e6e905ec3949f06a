import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadMapping } from '../../pipeline/mapping/load.js';
import { mappingSchemaFileText } from '../../pipeline/mapping/schema.js';
import { yaml } from './helpers.js';

const schemaPath = join(process.cwd(), 'mappings', 'schema.json');

let compiled: ReturnType<Ajv['compile']> | undefined;
function editorValidator() {
  // inlineRefs: false keeps compiling the per-kind branches fast.
  compiled ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, inlineRefs: false }).compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  return compiled;
}

function mappingFiles(): string[] {
  const root = join(process.cwd(), 'mappings');
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(root, d.name)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(root, d.name, f)));
}

describe('mappings/schema.json (the editor schema)', () => {
  it('is up to date with the builder (regenerate: npm run build && node dist/pipeline/mapping/write-schema.js)', () => {
    expect(readFileSync(schemaPath, 'utf8')).toBe(mappingSchemaFileText());
  });

  it('compiles in strict ajv and accepts every mapping in mappings/', () => {
    const validate = editorValidator();
    for (const f of mappingFiles()) {
      expect(validate(parse(readFileSync(f, 'utf8'))), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('underlines typos editors should catch: unknown keys, unknown canonical fields, bad map targets, bad enums', () => {
    const validate = editorValidator();
    const base = yaml`
      partner: p
      feed: f
      match: "*.csv"
      records:
        - emit: stage_event
          fields:
            batch: { from: B, xref: cmo_batch }
            status: { from: S, map: { D: completed } }
    `;
    expect(validate(parse(base))).toBe(true);
    const bad = (from: string, to: string) => {
      const doc = parse(base.replace(from, to));
      return validate(doc) ? [] : (validate.errors ?? []).map((e) => e.instancePath);
    };
    expect(bad('map: { D: completed }', 'map: { D: complete }')).toContain('/records/0/fields/status/map/D');
    expect(bad('status:', 'stauts:')).toContain('/records/0/fields/stauts');
    expect(bad('emit: stage_event', 'emit: stage')).toContain('/records/0/emit');
    expect(bad('from: S,', 'form: S,')).toContain('/records/0/fields/status');
  });

  it('describes what editors show on hover', () => {
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
    expect(schema.definitions.field.properties.unmapped.description).toContain('E_UNMAPPED_CODE');
    expect(schema.definitions.record.properties.emit.enum).toContain('test_result');
    expect(JSON.stringify(schema)).toContain('test_result.result');
  });
});

describe('the mappings shipped in mappings/', () => {
  it.skipIf(!existsSync(join(process.cwd(), 'mappings')))('all load without errors', () => {
    for (const f of mappingFiles()) {
      const r = loadMapping(f);
      expect(r.diagnostics.filter((d) => d.severity === 'error'), f).toEqual([]);
      expect(r.spec, f).toBeDefined();
    }
  });
});
