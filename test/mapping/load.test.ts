import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, type Diagnostic } from '../../pipeline/mapping/diagnostics.js';
import { loadMapping, mappingName, parseMappingText } from '../../pipeline/mapping/load.js';
import { load, yaml } from './helpers.js';

const GOOD = yaml`
  partner: acme
  feed: feed
  format: csv
  match: "batch_*.csv"
  dialect: { delimiter: ";", decimal: "," }
  records:
    - emit: stage_event
      fields:
        batch: { from: Charge, xref: cmo_batch, required: true }
        stage: { from: Step, map: { MIX: compounding } }
        status: { from: Status, map: { Done: completed } }
        eventTime: { from: Date, type: datetime, format: "dd.MM.yyyy HH:mm", tz: Europe/Berlin }
`;

/** Replaces one line of GOOD (1-based) to make a broken variant with known positions. */
function withLine(n: number, text: string): string {
  const lines = GOOD.split('\n');
  lines[n - 1] = text;
  return lines.join('\n');
}

function only(diags: Diagnostic[], severity: 'error' | 'warning' = 'error'): Diagnostic[] {
  return diags.filter((d) => d.severity === severity);
}

describe('loadMapping / parseMappingText', () => {
  it('returns the spec (normalized), the sha256 of the bytes and no diagnostics for a good file', () => {
    const r = load(GOOD);
    expect(r.diagnostics).toEqual([]);
    expect(r.hash).toBe(createHash('sha256').update(GOOD).digest('hex'));
    expect(r.spec?.match).toEqual(['batch_*.csv']);
    expect(r.spec?.records[0].fields.eventTime.tz).toBe('Europe/Berlin');
  });

  it('defaults format to csv', () => {
    const r = load(GOOD.replace('format: csv\n', ''));
    expect(r.diagnostics).toEqual([]);
    expect(r.spec?.format).toBe('csv');
  });

  it('points a typo in a key at that key with a suggestion', () => {
    const text = withLine(10, '      stage: { from: Step, map: { MIX: compounding }, unmaped: error }');
    const r = load(text);
    expect(r.spec).toBeUndefined();
    expect(r.diagnostics).toEqual([
      {
        file: 'mappings/acme/feed.yaml',
        line: 10,
        col: 55,
        severity: 'error',
        code: 'E_UNKNOWN_KEY',
        message: expect.stringContaining("unknown key 'unmaped' in records[0].fields.stage; did you mean 'unmapped'?"),
      },
    ]);
    expect(text.split('\n')[9].slice(54)).toMatch(/^unmaped/);
  });

  it('points a wrong enum value at the value', () => {
    const r = load(withLine(10, '      stage: { from: Step, map: { MIX: compounding }, unmapped: drop }'));
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ line: 10, col: 65, code: 'E_BAD_VALUE' });
    expect(r.diagnostics[0].message).toBe("records[0].fields.stage.unmapped must be one of: error, keep, null, skip; got text \"drop\"");
  });

  it('points an unknown canonical field at its name with a suggestion', () => {
    const r = load(withLine(11, '      stauts: { from: Status, map: { Done: completed } }'));
    const e = only(r.diagnostics);
    expect(e.map((d) => [d.line, d.col, d.code])).toEqual([
      [7, 11, 'E_REQUIRED_FIELD_UNMAPPED'],
      [11, 7, 'E_UNKNOWN_FIELD'],
    ]);
    expect(e[1].message).toContain("'stauts' is not a field of stage_event; did you mean 'status'?");
    expect(e[0].message).toContain("stage_event needs 'status'");
  });

  it('allows any name for an identifier cross-reference, but only with xref', () => {
    expect(only(load(GOOD.replace('batch: { from: Charge, xref: cmo_batch', 'anyName: { from: Charge, xref: cmo_batch')).diagnostics)).toEqual([]);
  });

  it('points a bad regex at the extract value', () => {
    const r = load(withLine(9, '      batch: { from: Charge, xref: cmo_batch, extract: "^(AC-[0-9+$" }'));
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ line: 9, col: 56, code: 'E_BAD_REGEX' });
    expect(r.diagnostics[0].message).toContain('/^(AC-[0-9+$/');
  });

  it('requires a capture group in extract', () => {
    const r = load(withLine(9, '      batch: { from: Charge, xref: cmo_batch, extract: "^AC-\\\\d+$" }'));
    expect(r.diagnostics[0]).toMatchObject({ code: 'E_BAD_REGEX', line: 9 });
    expect(r.diagnostics[0].message).toContain('no capture group');
  });

  it('checks time zones and date patterns, with suggestions', () => {
    const r = load(withLine(12, '      eventTime: { from: Date, type: datetime, format: "DD.MM.YYYY HH:mm", tz: Europe/Berlinn }'));
    expect(r.diagnostics.map((d) => [d.line, d.col, d.code])).toEqual([
      [12, 56, 'E_BAD_DATE_FORMAT'],
      [12, 56, 'E_BAD_DATE_FORMAT'],
      [12, 80, 'E_BAD_TZ'],
    ]);
    expect(r.diagnostics[0].message).toContain('use "dd"');
    expect(r.diagnostics[1].message).toContain('use "yyyy"');
    expect(r.diagnostics[2].message).toContain("did you mean 'Europe/Berlin'?");
  });

  it('warns when local times have no zone', () => {
    const r = load(withLine(12, '      eventTime: { from: Date, type: datetime, format: "dd.MM.yyyy HH:mm" }'));
    expect(r.spec).toBeDefined();
    expect(r.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'W_NO_TZ', line: 12 })]);
  });

  it('rejects a type that would make every record invalid', () => {
    const r = load(withLine(12, '      eventTime: { from: Date, type: date, format: "dd.MM.yyyy" }'));
    expect(only(r.diagnostics)).toEqual([expect.objectContaining({ code: 'E_TYPE_MISMATCH', line: 12, col: 38 })]);
  });

  it('rejects map targets outside the canonical enum, with a suggestion', () => {
    const r = load(withLine(11, '      status: { from: Status, map: { Done: complete, Hold: on_hold } }'));
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'E_BAD_MAP_VALUE', line: 11, col: 44 })]);
    expect(r.diagnostics[0].message).toContain("did you mean 'completed'?");
  });

  it('rejects constants and defaults that are not canonical', () => {
    const r = load(withLine(11, '      status: { const: done }'));
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'E_BAD_CONSTANT', line: 11, col: 24 })]);
  });

  it('a required canonical field with no source, and a field with no source at all', () => {
    const r = load(withLine(12, '      eventTime: { type: datetime }'));
    expect(only(r.diagnostics).map((d) => d.code)).toEqual(['E_REQUIRED_FIELD_UNMAPPED', 'E_NO_SOURCE']);
  });

  it('each without a field reading $each, and $each without each', () => {
    const noReader = load(GOOD.replace('  - emit: stage_event\n', '  - emit: stage_event\n    each: [{ column: A }]\n'));
    expect(only(noReader.diagnostics)).toEqual([expect.objectContaining({ code: 'E_EACH_UNUSED', line: 8, col: 5 })]);
    const noEach = load(withLine(13, '      site: { from: $each }') + '\n');
    expect(only(noEach.diagnostics)).toEqual([expect.objectContaining({ code: 'E_EACH_MISSING', line: 13, col: 21 })]);
  });

  it('duplicate wide column aliases are an error (one column would make two records)', () => {
    const text = yaml`
      partner: p
      feed: f
      match: "*.csv"
      records:
        - emit: test_result
          each:
            - { column: [Assay, "Assay (%)"], set: { testCode: ASSAY } }
            - { column: ["assay "], set: { testCode: ASSAY2 } }
          fields:
            lotNumber: { from: Lot }
            result: { from: $each }
    `;
    const r = load(text);
    expect(only(r.diagnostics)).toEqual([expect.objectContaining({ code: 'E_DUPLICATE_ALIAS', line: 8, col: 20 })]);
  });

  it('unknown keys in each.set are canonical-field errors', () => {
    const r = load(yaml`
      partner: p
      feed: f
      match: "*.csv"
      records:
        - emit: test_result
          each: [{ column: A, set: { testCod: ASSAY } }]
          fields:
            lotNumber: { from: Lot }
            testCode: { from: $eachColumn }
            result: { from: $each }
    `);
    expect(only(r.diagnostics)).toEqual([expect.objectContaining({ code: 'E_UNKNOWN_FIELD', line: 6, col: 32 })]);
  });

  it('checks partner and feed against the folder and file name', () => {
    const r = parseMappingText(GOOD, 'mappings/bravo-lab/lims.yaml');
    expect(r.diagnostics.map((d) => [d.line, d.col, d.code])).toEqual([
      [1, 10, 'E_PARTNER_MISMATCH'],
      [2, 7, 'E_FEED_MISMATCH'],
    ]);
    expect(parseMappingText(GOOD, 'mappings/acme/feed.yaml').diagnostics).toEqual([]);
    expect(parseMappingText(GOOD, 'drafts/x.yaml', { checkLocation: false }).diagnostics).toEqual([]);
  });

  it('missing top-level keys and wrong types', () => {
    const r = load('partner: acme\nfeed: feed\nrecords: yes\n');
    expect(r.diagnostics.map((d) => [d.line, d.col, d.code, d.message])).toEqual([
      [1, 1, 'E_MISSING_KEY', "the mapping is missing required key 'match'"],
      [3, 10, 'E_BAD_TYPE', 'records must be a list; got text "yes"'],
    ]);
  });

  it('format csv without records, xml without a record path, document with columns', () => {
    expect(load('partner: a\nfeed: f\nmatch: "*"\nrecords: []\n').diagnostics[0]).toMatchObject({ code: 'E_SCHEMA', line: 4, col: 10 });
    const xml = load(GOOD.replace('format: csv', 'format: xml'));
    expect(only(xml.diagnostics)).toEqual([expect.objectContaining({ code: 'E_MISSING_KEY', line: 3, col: 1 })]);
    const doc = load(GOOD.replace('format: csv', 'format: document'));
    expect(only(doc.diagnostics).map((d) => d.code)).toEqual(['E_BAD_SOURCE', 'E_BAD_SOURCE', 'E_BAD_SOURCE', 'E_BAD_SOURCE']);
  });

  it('conditions: exactly one test, regex checked, "=field" only in when and only for mapped fields', () => {
    const r = load(
      GOOD.replace('records:\n', 'filter:\n  - { field: Step, equals: A, in: [B] }\n  - { field: Step, matches: "([" }\n  - { field: "=stage", present: true }\nrecords:\n').replace(
        '    fields:\n',
        '    when: [{ field: "=stag", equals: x }]\n    fields:\n',
      ),
    );
    expect(r.diagnostics.map((d) => [d.line, d.code])).toEqual([
      [7, 'E_BAD_CONDITION'],
      [8, 'E_BAD_REGEX'],
      [9, 'E_BAD_CONDITION'],
      [12, 'E_UNKNOWN_FIELD'],
    ]);
  });

  it('YAML syntax errors and duplicate keys are located', () => {
    const dup = load(withLine(4, 'feed: again'));
    expect(dup.diagnostics).toEqual([expect.objectContaining({ code: 'E_DUPLICATE_KEY', line: 4, col: 1 })]);
    const bad = load('partner: a\nfeed: [unclosed\n');
    expect(bad.diagnostics[0]).toMatchObject({ code: 'E_YAML_SYNTAX', line: expect.any(Number) });
    expect(load('').diagnostics).toEqual([expect.objectContaining({ code: 'E_EMPTY', line: 1, col: 1 })]);
  });

  it('unquoted codes and headers keep their text (01 stays "01", 2024 header stays "2024")', () => {
    const r = load(
      GOOD.replace('map: { MIX: compounding }', 'map: { 01: compounding, 1.10: filling }').replace('from: Step', 'from: 2024'),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.spec?.records[0].fields.stage).toEqual({ from: '2024', map: { '01': 'compounding', '1.10': 'filling' } });
  });

  it('accepts `unmapped: null` as the null policy', () => {
    const r = load(withLine(10, '      stage: { from: Step, map: { MIX: compounding }, unmapped: null }'));
    expect(r.diagnostics).toEqual([]);
    expect(r.spec?.records[0].fields.stage.unmapped).toBe('null');
  });

  it('YAML anchors can share a value map; alias bombs are refused', () => {
    const shared = load(
      GOOD.replace('stage: { from: Step, map: { MIX: compounding } }', 'stage: { from: Step, map: &steps { MIX: compounding } }') +
        '  - emit: stage_event\n    fields:\n      batch: { from: Charge, xref: cmo_batch }\n      stage: { from: Schritt, map: *steps }\n      status: { const: started }\n      eventTime: { from: Date }\n',
    );
    expect(shared.diagnostics).toEqual([]);
    expect(shared.spec?.records[1].fields.stage.map).toEqual({ MIX: 'compounding' });
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const bomb = load(`${lines.join('\n')}\npartner: p\n`);
    expect(bomb.spec).toBeUndefined();
    expect(bomb.diagnostics.some((d) => d.message.includes('too many alias expansions'))).toBe(true);
  });

  it('formats diagnostics as file:line:col: severity CODE: message', () => {
    expect(formatDiagnostic({ file: 'm/a/f.yaml', line: 3, col: 7, severity: 'error', code: 'E_SCHEMA', message: 'boom' })).toBe('m/a/f.yaml:3:7: error E_SCHEMA: boom');
  });
});

describe('loadMapping from disk', () => {
  it('reads the file, hashes its bytes and names it partner/feed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lotgate-map-'));
    mkdirSync(join(dir, 'acme'));
    const path = join(dir, 'acme', 'feed.yaml');
    writeFileSync(path, '\ufeff' + GOOD);
    const r = loadMapping(path);
    expect(r.diagnostics).toEqual([]);
    expect(r.name).toBe('acme/feed');
    expect(r.hash).toBe(createHash('sha256').update('\ufeff' + GOOD).digest('hex'));
    expect(mappingName(path)).toBe('acme/feed');
  });

  it('reports unreadable and non-UTF-8 files as diagnostics, not exceptions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lotgate-map-'));
    expect(loadMapping(join(dir, 'nope.yaml')).diagnostics[0]).toMatchObject({ code: 'E_READ', line: 1, col: 1 });
    const bin = join(dir, 'bin.yaml');
    writeFileSync(bin, Buffer.from([0x70, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
    expect(loadMapping(bin, { checkLocation: false }).diagnostics[0]).toMatchObject({ code: 'E_ENCODING' });
  });
});
