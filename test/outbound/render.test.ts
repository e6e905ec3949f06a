import { parse } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { deviationMessage, lotReadinessMessage, plannedReceiptStatusMessage, type OutboundMessage } from '../../pipeline/outbound/messages.js';
import { csvField, toCsv } from '../../pipeline/outbound/render/csv.js';
import { messageFileName, renderMessage } from '../../pipeline/outbound/render/render.js';
import { AT, blocked, deviation, LOT, ready, TRICKY_REASON } from './helpers.js';

const csvRows = (text: string, delimiter = ',') => parse(text, { columns: true, delimiter, bom: true }) as Record<string, string>[];

describe('CSV', () => {
  it('writes one line per reason with the lot columns repeated, and the tricky reason survives a parser', () => {
    const msg = lotReadinessMessage(LOT, blocked(), AT);
    const text = renderMessage(msg, 'csv').content.toString('utf8');
    expect(text.split('\r\n')[0]).toBe(
      'message_id,topic,key,created_at,material_id,lot_number,vendor,vendor_batch,site,expiry_date,manufacture_date,quantity,uom,state,late,late_stages,reason_code,reason_severity,reason_message,evidence',
    );
    const rows = csvRows(text);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      message_id: msg.id,
      material_id: '000100234',
      lot_number: 'L2026-001',
      state: 'BLOCKED',
      late: 'true',
      late_stages: 'packaging due 2026-02-20',
      reason_code: 'R_DEVIATION_OPEN_MAJOR',
      reason_message: TRICKY_REASON,
      evidence: 'deviation:DEV-14 (major, open)',
    });
    expect(rows[1]).toMatchObject({ reason_code: 'R_STAGE_INCOMPLETE', material_id: '000100234', quantity: '12000' });
    // The quoting itself, exactly as RFC 4180 wants it.
    expect(text).toContain('"Deviation ""DEV-14""; filter <&> broke\nsee CAPA-9, line 2"');
  });

  it('writes one line with empty reason columns for a lot without reasons', () => {
    const rows = csvRows(renderMessage(lotReadinessMessage(LOT, ready(), AT), 'csv').content.toString());
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'READY', late: 'false', reason_code: '', reason_message: '' });
  });

  it('honours a semicolon delimiter and a BOM for spreadsheet users', () => {
    const buf = renderMessage(lotReadinessMessage(LOT, blocked(), AT), 'csv', { delimiter: ';', bom: true }).content;
    expect([...buf.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = csvRows(buf.toString('utf8'), ';');
    expect(rows[0].reason_message).toBe(TRICKY_REASON);
    expect(rows[0].evidence).toBe('deviation:DEV-14 (major, open)');
  });

  it('writes a deviation as one line per affected lot', () => {
    const msg = deviationMessage(deviation(), [{ materialId: 'M1', lotNumber: 'A' }, { materialId: 'M1', lotNumber: 'B' }], AT);
    const rows = csvRows(renderMessage(msg, 'csv').content.toString());
    expect(rows.map((r) => r.lot_number)).toEqual(['A', 'B']);
    expect(rows[0]).toMatchObject({ partner_ref: 'DEV-14', classification: 'major', capa_refs: 'CAPA-2 | CAPA-9', title: 'Filter integrity <failed> & retested' });
  });

  it('writes a planned receipt as one line', () => {
    const rows = csvRows(renderMessage(plannedReceiptStatusMessage({ poNumber: '45', poItem: '10', materialId: '000100234' }, LOT, blocked(), AT), 'csv').content.toString());
    expect(rows).toEqual([expect.objectContaining({ po_number: '45', lot_number: 'L2026-001', state: 'BLOCKED', receipt_status: 'blocked' })]);
  });

  it('flattens an unknown topic into one line of dotted columns', () => {
    const msg: OutboundMessage = { id: 'f'.repeat(64), topic: 'erp.custom', key: 'k', createdAt: AT, payload: { a: { b: 1, c: 'x,y' }, list: [1, 2] } };
    const rows = csvRows(renderMessage(msg, 'csv').content.toString());
    expect(rows).toEqual([{ message_id: msg.id, topic: 'erp.custom', key: 'k', created_at: AT, 'a.b': '1', 'a.c': 'x,y', list: '[1,2]' }]);
  });

  it('quotes only what needs quoting', () => {
    expect(csvField('plain', ',')).toBe('plain');
    expect(csvField(' padded', ',')).toBe('" padded"');
    expect(csvField('a\tb', '\t')).toBe('"a\tb"');
    expect(csvField(null, ',')).toBe('');
    expect(csvField(Number.NaN, ',')).toBe('');
    expect(toCsv(['a', 'b'], [['1']])).toBe('a,b\r\n1,\r\n');
  });
});

describe('XML', () => {
  it('is well-formed, has no DTD, escapes <&> and reads back to the same values', () => {
    const msg = lotReadinessMessage(LOT, blocked(), AT);
    const xml = renderMessage(msg, 'xml').content.toString('utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toMatch(/<!DOCTYPE|<!ENTITY/i);
    expect(xml).toContain('filter &lt;&amp;&gt; broke');
    const doc = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => ['reason', 'evidenceItem', 'lateStage'].includes(name) }).parse(xml);
    expect(doc.message['@_id']).toBe(msg.id);
    expect(doc.message['@_topic']).toBe('erp.lot_readiness');
    const payload = doc.message.payload;
    expect(payload.lot.materialId).toBe('000100234');
    expect(payload.readiness.reasons.reason[0].message).toBe(TRICKY_REASON);
    expect(payload.readiness.reasons.reason[0].evidence.evidenceItem[0].ref).toBe('DEV-14');
    expect(payload.readiness.lateStages.lateStage[0].stage).toBe('packaging');
    expect(payload.lot.site['@_xsi:nil']).toBe('true');
  });

  it('escapes attribute values and replaces characters XML cannot carry', () => {
    const msg: OutboundMessage = {
      id: 'a'.repeat(64),
      topic: 'qms.deviation',
      key: 'acme/"DEV"<1>&\'x\'',
      createdAt: AT,
      payload: { title: 'bell\u0007 and ]]> end\r\nnext', 'bad key': 1, '9lives': true },
    };
    const xml = renderMessage(msg, 'xml').content.toString('utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, parseTagValue: false, processEntities: true, htmlEntities: true }).parse(xml);
    expect(doc.message['@_key']).toBe(`acme/"DEV"<1>&'x'`);
    expect(xml).toContain('bell\uFFFD and ]]&gt; end&#13;\nnext');
    expect(xml).toContain('<bad_key>1</bad_key>');
    expect(xml).toContain('<_9lives>true</_9lives>');
  });
});

describe('JSON and file names', () => {
  it('writes the whole message as JSON', () => {
    const msg = lotReadinessMessage(LOT, blocked(), AT);
    expect(JSON.parse(renderMessage(msg, 'json').content.toString())).toEqual(msg);
  });

  it('names files <topic>_<key>_<id12>.<ext> with the key made safe', () => {
    const msg = lotReadinessMessage({ materialId: '000100234', lotNumber: '../L 2026/001' }, ready(), AT);
    const name = messageFileName(msg, 'csv');
    expect(name).toBe(`erp.lot_readiness_000100234-L-2026-001_${msg.id.slice(0, 12)}.csv`);
    expect(renderMessage(msg, 'xml').name).toBe(name.replace(/\.csv$/, '.xml'));
    expect(messageFileName({ id: msg.id, topic: 't', key: '...' }, 'json')).toBe(`t_x_${msg.id.slice(0, 12)}.json`);
  });
});
