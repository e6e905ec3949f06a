// XML as partners send it: namespaces by URI or by prefix as written, attribute predicates,
// one record per repeated child, several values for one field as a coded error, and joins
// inside one document (bounded index, load-time checks).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { compile, load, specOf, yaml } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'xml-shapes-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const DOC = `<?xml version="1.0"?>
<a:Doc xmlns:a="urn:example:doc" xmlns:q="urn:example:quality">
  <Event>
    <id>E1</id>
    <ref type="po">PO-1</ref>
    <ref type="asn">ASN-1</ref>
    <items>
      <item><lot>L1</lot><qty>5</qty></item>
      <item><lot>L2</lot><qty>7</qty></item>
    </items>
    <q:status>released</q:status>
  </Event>
</a:Doc>
`;

async function run(mapping: string, text: string, name = 'doc.xml') {
  return dryRun(compile(mapping), specOf(mapping), file(name, text), { now: new Date('2026-02-05T00:00:00Z') });
}

const base = (record: string, fields: string, extra = '') => yaml`
  partner: acme-cmo
  feed: xml
  format: xml
  match: ["*.xml"]
  xml: { record: "${record}"${extra} }
  records:
    - emit: lot
      fields:
${fields}
`;

describe('XML namespaces', () => {
  it('a declared prefix matches by URI, whatever prefix the document writes', async () => {
    const m = base('doc:Doc/Event', '        lotNumber: { from: id }\n        qualityState: { from: "qs:status" }', ', namespaces: { doc: "urn:example:doc", qs: "urn:example:quality" }');
    const r = await run(m, DOC);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.fields)).toEqual([{ lotNumber: 'E1', qualityState: 'released' }]);
  });

  it('a declared prefix bound to another URI does not match; an undeclared prefix matches as written', async () => {
    const wrong = await run(base('doc:Doc/Event', '        lotNumber: { from: id }', ', namespaces: { doc: "urn:example:other" }'), DOC);
    expect(wrong.errors).toEqual([expect.objectContaining({ code: 'E_RECORD_PATH_NO_MATCH', message: expect.stringContaining('<Doc> is there, but not in the namespace') })]);
    const asWritten = await run(base('a:Doc/Event', '        lotNumber: { from: id }\n        qualityState: { from: "q:status" }'), DOC);
    expect(asWritten.records.map((x) => x.fields)).toEqual([{ lotNumber: 'E1', qualityState: 'released' }]);
    const otherPrefix = await run(base('b:Doc/Event', '        lotNumber: { from: id }'), DOC);
    expect(otherPrefix.errors.map((e) => e.code)).toEqual(['E_RECORD_PATH_NO_MATCH']);
    const anyNs = await run(base('*:Doc/Event', '        lotNumber: { from: id }\n        qualityState: { from: "*:status" }'), DOC);
    expect(anyNs.records.map((x) => x.fields)).toEqual([{ lotNumber: 'E1', qualityState: 'released' }]);
  });
});

describe('XML predicates and several values', () => {
  it('picks an element by attribute (= and !=)', async () => {
    const r = await run(base('Doc/Event', `        lotNumber: { from: "ref[@type='po']" }\n        vendorBatch: { from: "ref[@type!='po']" }`), DOC);
    expect(r.errors).toEqual([]);
    expect(r.records[0].fields).toEqual({ lotNumber: 'PO-1', vendorBatch: 'ASN-1' });
  });

  it('a path that matches several elements for one field is E_XML_SEVERAL_VALUES, never the first silently', async () => {
    const r = await run(base('Doc/Event', '        lotNumber: { from: ref }'), DOC);
    expect(r.records).toEqual([]);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'E_XML_SEVERAL_VALUES', line: 3, field: 'lotNumber', message: expect.stringContaining('matches 2 elements') })]);
    expect(r.counts).toMatchObject({ rows: 1, rejected: 1 });
  });

  it('a condition over several elements holds when one of them passes', async () => {
    const m = yaml`
      partner: acme-cmo
      feed: xml
      format: xml
      match: ["*.xml"]
      xml: { record: "Doc/Event" }
      records:
        - emit: lot
          when: [{ field: ref, equals: ASN-1 }]
          fields: { lotNumber: { from: id } }
    `;
    expect((await run(m, DOC)).counts).toMatchObject({ applied: 1 });
  });
});

describe('XML each: one record per repeated child', () => {
  it('copies the parent event fields into each record and carries the line of the child', async () => {
    const m = yaml`
      partner: acme-cmo
      feed: xml
      format: xml
      match: ["*.xml"]
      xml: { record: "Doc/Event" }
      records:
        - emit: lot
          each: [{ path: items/item }]
          fields:
            lotNumber: { from: $each/lot, required: true }
            quantity: { from: $each/qty }
            vendorBatch: { from: "ref[@type='po']" }
    `;
    const r = await run(m, DOC);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => [x.line, x.fields])).toEqual([
      [8, { lotNumber: 'L1', quantity: 5, vendorBatch: 'PO-1' }],
      [9, { lotNumber: 'L2', quantity: 7, vendorBatch: 'PO-1' }],
    ]);
    expect(r.counts).toMatchObject({ rows: 1, applied: 1, records: 2 });
    expect(r.recordsPerSpec).toEqual([{ spec: 'records[0] lot', each: 'path "items/item"', records: 2 }]);
  });

  it('a when on the element ($each/…) chooses among the children', async () => {
    const m = yaml`
      partner: acme-cmo
      feed: xml
      format: xml
      match: ["*.xml"]
      xml: { record: "Doc/Event" }
      records:
        - emit: lot
          each: [{ path: items/item }]
          when: [{ field: $each/qty, equals: "7" }]
          fields:
            lotNumber: { from: $each/lot, required: true }
    `;
    const r = await run(m, DOC);
    expect(r.records.map((x) => [x.line, x.fields.lotNumber])).toEqual([[9, 'L2']]);
  });
});

describe('XML joins', () => {
  const JOIN = (max = '') => yaml`
    partner: acme-cmo
    feed: xml
    format: xml
    match: ["*.xml"]
    xml: { record: "Doc/*" }
    joins:
      lot:
        records: Made
        key: epc
        value: lot
        contains: { records: Packed, parent: parent, children: child }${max}
    records:
      - emit: stage_event
        each: [{ join: lot, key: [epc, parent] }]
        fields:
          lotNumber: { from: $each }
          stage: { const: shipped }
          status: { const: completed }
          eventTime: { from: at, type: datetime, format: iso }
  `;
  const doc = (n: number) => `<Doc>
  ${Array.from({ length: n }, (_, i) => `<Made><epc>u${i}</epc><lot>L${i % 2}</lot><at>2026-01-01T00:00:00Z</at></Made>`).join('\n  ')}
  <Packed><parent>box</parent>${Array.from({ length: n }, (_, i) => `<child>u${i}</child>`).join('')}<at>2026-01-02T00:00:00Z</at></Packed>
  <Shipped><epc>box</epc><at>2026-01-03T00:00:00Z</at></Shipped>
</Doc>`;

  it('resolves a container through what it contains, recursively, one record per lot', async () => {
    const r = await run(JOIN(), doc(4));
    expect(r.errors).toEqual([]);
    expect(r.joins).toEqual([{ name: 'lot', keys: 4, links: 4, unresolvedRows: 0 }]);
    const shipped = r.records.filter((x) => x.fields.eventTime === '2026-01-03T00:00:00.000Z').map((x) => x.fields.lotNumber);
    expect(shipped).toEqual(['L0', 'L1']);
  });

  it('an index larger than maxEntries rejects the file with E_JOIN_INDEX_LIMIT', async () => {
    const r = await run(JOIN('\n        maxEntries: 5'), doc(4));
    expect(r.records).toEqual([]);
    expect(r.errors.map((e) => e.code)).toEqual(['E_JOIN_INDEX_LIMIT']);
  });

  it('is checked when the mapping loads: unknown join, bad paths and predicates', () => {
    const bad = yaml`
      partner: acme-cmo
      feed: xml
      format: xml
      match: ["*.xml"]
      xml: { record: "Doc/*" }
      joins:
        lot: { records: "Made/x", key: "epc[@a=", value: lot }
      records:
        - emit: stage_event
          each: [{ join: lots, key: epc }]
          fields:
            lotNumber: { from: $each }
            stage: { from: "s[type='x']" }
            status: { const: completed }
            eventTime: { const: "2026-01-01T00:00:00Z" }
    `;
    const codes = load(bad).diagnostics.map((d) => `${d.code} ${d.message.slice(0, 40)}`);
    expect(codes).toEqual(expect.arrayContaining([expect.stringMatching(/^E_UNKNOWN_FIELD no join "lots"/), expect.stringMatching(/^E_XML_PATH/)]));
    expect(load(bad).diagnostics.filter((d) => d.code === 'E_XML_PATH').length).toBe(3);
  });
});

describe('XML default namespace', () => {
  it('a declared prefix matches elements in the default namespace of the document', async () => {
    const doc = '<Doc xmlns="urn:example:doc"><Event><id>E9</id></Event></Doc>';
    const r = await run(base('d:Doc/d:Event', '        lotNumber: { from: "d:id" }', ', namespaces: { d: "urn:example:doc" }'), doc);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.fields)).toEqual([{ lotNumber: 'E9' }]);
  });
});
