import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileDropConnector } from '../../pipeline/outbound/connectors/file-drop.js';
import { lotReadinessMessage, type OutboundMessage } from '../../pipeline/outbound/messages.js';
import { AT, blocked, LOT, ready, TRICKY_REASON } from './helpers.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'lotgate-drop-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const msg = lotReadinessMessage(LOT, blocked(), AT);
const drop = (format: 'json' | 'csv' | 'xml', dir = path.join(root, 'erp')) => createFileDropConnector({ name: 'erp-drop', dir, format, topics: ['erp.*'] });

describe('file-drop connector', () => {
  it('writes JSON into a folder it creates, named <topic>_<key>_<id12>.json', async () => {
    expect(await drop('json').deliver(msg)).toEqual({ ok: true });
    const files = readdirSync(path.join(root, 'erp'));
    expect(files).toEqual([`erp.lot_readiness_000100234-L2026-001_${msg.id.slice(0, 12)}.json`]);
    expect(JSON.parse(readFileSync(path.join(root, 'erp', files[0]), 'utf8'))).toEqual(msg);
  });

  it('writes CSV whose tricky reason reads back intact', async () => {
    await drop('csv').deliver(msg);
    const [file] = readdirSync(path.join(root, 'erp'));
    expect(file).toMatch(/\.csv$/);
    const rows = parse(readFileSync(path.join(root, 'erp', file)), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.reason_code)).toEqual(['R_DEVIATION_OPEN_MAJOR', 'R_STAGE_INCOMPLETE']);
    expect(rows[0].reason_message).toBe(TRICKY_REASON);
  });

  it('writes escaped XML', async () => {
    await drop('xml').deliver(msg);
    const [file] = readdirSync(path.join(root, 'erp'));
    const xml = readFileSync(path.join(root, 'erp', file), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).toContain('&lt;&amp;&gt;');
    expect(new XMLParser({ isArray: (n) => n === 'reason' }).parse(xml).message.payload.readiness.reasons.reason[0].message).toBe(TRICKY_REASON);
  });

  it('rewrites a re-delivered message under the same name and leaves no temp files', async () => {
    const c = drop('json');
    const others: OutboundMessage[] = Array.from({ length: 15 }, (_, i) => lotReadinessMessage({ ...LOT, lotNumber: `L-${i}` }, ready(), AT));
    await Promise.all([c.deliver(msg), c.deliver(msg), ...others.map((m) => c.deliver(m))]);
    expect(await c.deliver(msg)).toEqual({ ok: true });
    const files = readdirSync(path.join(root, 'erp'));
    expect(files).toHaveLength(16);
    expect(files.filter((f) => f.startsWith('.') || f.endsWith('.tmp'))).toEqual([]);
    expect(files.filter((f) => f.includes(msg.id.slice(0, 12)))).toHaveLength(1);
  });

  it('reports an unwritable folder as retryable and leaves nothing behind', async () => {
    const blocker = path.join(root, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const result = await drop('csv', path.join(blocker, 'erp')).deliver(msg);
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/erp-drop: cannot write .*not-a-dir.*(ENOTDIR|EEXIST)/) });
    expect(readdirSync(root)).toEqual(['not-a-dir']);
  });

  it('cleans up its temp file when the final rename fails', async () => {
    const dir = path.join(root, 'erp');
    const final = path.join(dir, `erp.lot_readiness_000100234-L2026-001_${msg.id.slice(0, 12)}.json`);
    mkdirSync(path.join(final, 'occupied'), { recursive: true });
    const result = await drop('json', dir).deliver(msg);
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect(readdirSync(dir)).toEqual([path.basename(final)]);
    expect(readdirSync(final)).toEqual(['occupied']);
  });

  it('reports a message it cannot render as not retryable', async () => {
    const c = createFileDropConnector({ name: 'erp-drop', dir: root, format: 'yaml' as 'json', topics: ['*'] });
    expect(await c.deliver(msg)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('cannot render') });
    expect(readdirSync(root)).toEqual([]);
  });
});
