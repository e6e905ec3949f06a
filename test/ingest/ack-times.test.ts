// Times for people: acknowledgments carry the precise UTC receivedAt plus receivedAtLocal in the
// partner's time zone (partner `timezone:`, else config `timezone:`, else the machine's); the
// .ack.csv and the CLI's tables show instants in that zone, ISO 8601 with offset, no milliseconds.

import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import YAML from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../pipeline/config/config.js';
import { parsePartnerText } from '../../pipeline/config/partners.js';
import { renderLot, renderTable } from '../../pipeline/cli/render.js';
import { toLocalIso } from '../../pipeline/model/local-time.js';
import { cli } from '../jobs/helpers/cli.js';
import { closeWorlds, makeWorld, type World } from '../jobs/helpers/world.js';

afterEach(() => closeWorlds());

const OFFSET_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;

function setSponsorZone(w: World, zone: string): void {
  const raw = YAML.parse(readFileSync(w.configPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(w.configPath, YAML.stringify({ ...raw, timezone: zone }));
}

describe('local times', () => {
  it('converts an instant to a zone with its offset, to the second, and leaves dates alone', () => {
    expect(toLocalIso('2026-11-19T07:15:02.923Z', 'Europe/Berlin')).toBe('2026-11-19T08:15:02+01:00');
    expect(toLocalIso('2026-07-19T07:15:02.923Z', 'Europe/Berlin')).toBe('2026-07-19T09:15:02+02:00');
    expect(toLocalIso('2026-11-19T07:15:02Z', 'America/New_York')).toBe('2026-11-19T02:15:02-05:00');
    expect(toLocalIso('2026-11-19', 'America/New_York')).toBe('2026-11-19');
    expect(toLocalIso('2026-11-19T07:15:02', 'America/New_York')).toBe('2026-11-19T07:15:02');
    expect(toLocalIso('NW26-0411', 'Europe/Berlin')).toBe('NW26-0411');
  });

  it("writes receivedAtLocal in the partner's zone, else the sponsor's; the .ack.csv shows it", async () => {
    const w = await makeWorld({ partners: { 'bravo-lab': { timezone: 'America/New_York' } } });
    const [erp] = await w.ingest('erp', ['ZMM_MATERIALS_20261120.csv']);
    const [lab] = await w.ingest('bravo-lab', ['LIMS_SUMMARY_20261118.csv']);
    // bravo-lab has its own zone; erp has none and gets config.yaml's (Europe/Berlin in the demo).
    expect(lab.ack.timeZone).toBe('America/New_York');
    expect(lab.ack.receivedAtLocal).toMatch(OFFSET_TIME);
    expect(lab.ack.receivedAtLocal).toMatch(/-0[45]:00$/);
    expect(Date.parse(lab.ack.receivedAtLocal!)).toBe(Math.floor(Date.parse(lab.ack.receivedAt) / 1000) * 1000);
    expect(lab.ack.receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(erp.ack.timeZone).toBe(w.config.timezone);
    expect(erp.ack.receivedAtLocal).toBe(toLocalIso(erp.ack.receivedAt, w.config.timezone));
    const json = JSON.parse(readFileSync(lab.ackPath, 'utf8'));
    expect(json.receivedAtLocal).toBe(lab.ack.receivedAtLocal);
    const rows = parse(readFileSync(lab.ackPath.replace(/\.json$/, '.csv'), 'utf8'), { relax_column_count: true }) as string[][];
    expect(rows[1][rows[0].indexOf('receivedAt')]).toBe(lab.ack.receivedAtLocal);
  });

  it("shows the ledger and one submission in the sponsor's zone, without milliseconds; --json stays UTC", async () => {
    const w = await makeWorld();
    const [sub] = await w.ingest('erp', ['ZMM_MATERIALS_20261120.csv']);
    setSponsorZone(w, 'Asia/Tokyo');
    const receivedAt = (await w.lg.store.ledger.getSubmission(sub.submissionId))!.receivedAt;
    const local = toLocalIso(receivedAt, 'Asia/Tokyo');
    expect(local).toMatch(/\+09:00$/);

    const list = await cli(w.configPath, ['submissions']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toContain(local);
    expect(list.stdout).not.toContain(receivedAt);
    const one = await cli(w.configPath, ['submission', String(sub.submissionId)]);
    expect(one.stdout).toMatch(new RegExp(`receivedAt\\s+${local.replace(/\+/g, '\\+')}\\n`));
    expect(one.stdout).not.toMatch(/\.\d{3}Z/);
    const audit = await cli(w.configPath, ['audit', 'list']);
    expect(audit.stdout).not.toMatch(/\.\d{3}Z/);
    expect(audit.stdout).toMatch(/\+09:00/);
    const asJson = await cli(w.configPath, ['submission', String(sub.submissionId), '--json']);
    expect(JSON.parse(asJson.stdout).receivedAt).toBe(receivedAt);
  });

  it('renders instants in tables and lots in the zone, and leaves dates and other values alone', () => {
    const table = renderTable(['AT', 'DATE', 'LOT'], [['2026-11-19T07:15:02.923Z', '2027-05-31', 'NW26-0411']], { timeZone: 'Europe/Berlin' });
    expect(table).toContain('2026-11-19T08:15:02+01:00');
    expect(table).toContain('2027-05-31');
    const lot = renderLot(
      { lotNumber: 'NW26-0411', materialId: 'M', expiryDate: '2027-05-31', readiness: { state: 'READY', reasons: [] }, stages: [{ stage: 'filling', status: 'completed', eventTime: '2026-11-18T22:05:00Z' }] },
      { timeZone: 'America/New_York' },
    );
    expect(lot).toContain('2026-11-18T17:05:00-05:00');
    expect(lot).toContain('expires 2027-05-31');
    expect(renderTable(['AT'], [['2026-11-19T07:15:02.923Z']])).toContain('2026-11-19T07:15:02.923Z');
  });

  it('refuses an unknown time zone in a partner file or config.yaml, saying where', async () => {
    expect(() => parsePartnerText('id: acme-x\nname: X\nrole: cmo\ntimezone: Europe/Lörrach\n', 'partners/acme-x.yaml')).toThrow(/acme-x\.yaml:4:\d+: \/timezone "Europe\/Lörrach" is not an IANA time zone/);
    const w = await makeWorld();
    setSponsorZone(w, 'CET+1');
    expect(() => loadConfig({ configPath: w.configPath, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ configPath: w.configPath, env: {} })).toThrow(/timezone: "CET\+1" is not an IANA time zone/);
  });
});
