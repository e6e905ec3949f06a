// Read commands: the board, one lot, the ledger, the audit chain. All take --json.

import type { Command } from 'commander';
import type { ReadinessState, SubmissionState } from '../model/types.js';
import { lotViewsByNumber } from '../read/lot.js';
import { listAllLots, READINESS_STATES as STATES } from '../read/lots.js';
import { submissionView } from '../read/submissions.js';
import { registerAuditAnchorCommands } from './audit-commands.js';
import { printJson, UserError, withLotgate } from './context.js';
import { humanTime, renderLot, renderTable } from './render.js';

export function registerReadCommands(program: Command): void {
  program
    .command('lots')
    .description('The readiness board: every lot with its state, late flag and reasons.')
    .option('-r, --readiness <state>', `only lots in this state (${STATES.join(', ')})`)
    .option('--json', 'print JSON')
    .action(async (opts: { readiness?: string; json?: boolean }, cmd: Command) => {
      const state = opts.readiness?.toUpperCase() as ReadinessState | undefined;
      if (state && !STATES.includes(state)) throw new UserError(`--readiness must be one of ${STATES.join(', ')}`, 2);
      const lots = await withLotgate(cmd, (lg) => listAllLots(lg.store, 'all', { readiness: state ? [state] : undefined }));
      if (opts.json) return printJson(lots);
      if (!lots.length) {
        process.stdout.write('No lots yet. Ingest the ERP partner\'s files first: lotgate ingest --partner erp fixtures/erp/*\n');
        return;
      }
      process.stdout.write(
        renderTable(
          ['LOT', 'MATERIAL', 'VENDOR', 'EXPIRY', 'READINESS', 'LATE', 'REASONS'],
          lots.map((l) => [l.lotNumber, l.materialId, l.vendor ?? '', l.expiryDate ?? '', l.readiness?.state ?? '-', l.readiness?.late ? 'late' : '', [...new Set(l.readiness?.reasons.map((r) => r.code) ?? [])].join(' ')]),
        ),
      );
    });

  program
    .command('lot')
    .description('One lot: identifiers, stages, tests, documents, deviations, readiness with reasons.')
    .argument('<lotNumber>', "the sponsor's lot number")
    .option('-m, --material <id>', 'material id, when the lot number exists for several materials')
    .option('--json', 'print JSON')
    .action(async (lotNumber: string, opts: { material?: string; json?: boolean }, cmd: Command) => {
      const lot = await withLotgate(cmd, async (lg) => {
        const list = await lotViewsByNumber(lg.store, lg.config, 'all', lotNumber, opts.material);
        if (list.length === 0) throw new UserError(`no lot "${lotNumber}"${opts.material ? ` of material ${opts.material}` : ''} (see \`lotgate lots\`)`, 4);
        if (list.length > 1) throw new UserError(`lot number "${lotNumber}" exists for several materials (${list.map((l) => l.materialId).join(', ')}): add --material`, 2);
        return { lot: list[0], timeZone: lg.config.timezone };
      });
      if (opts.json) return printJson(lot.lot);
      process.stdout.write(renderLot(lot.lot, { timeZone: lot.timeZone }));
    });

  program
    .command('submissions')
    .description('The ledger: every file received, its state and counts.')
    .option('-p, --partner <id>', 'only this partner')
    .option('-s, --state <state>', 'only this state (received, processing, applied, applied_with_errors, rejected, duplicate, quarantined)')
    .option('-n, --limit <n>', 'at most n (newest first)', (v) => Number.parseInt(v, 10), 50)
    .option('--json', 'print JSON')
    .action(async (opts: { partner?: string; state?: string; limit: number; json?: boolean }, cmd: Command) => {
      const { subs, timeZone } = await withLotgate(cmd, async (lg) => ({
        subs: await lg.store.ledger.listSubmissions({ partner: opts.partner, state: opts.state as SubmissionState | undefined, limit: opts.limit }),
        timeZone: lg.config.timezone,
      }));
      if (opts.json) return printJson(subs);
      process.stdout.write(
        renderTable(
          ['ID', 'PARTNER', 'FILE', 'STATE', 'ROWS', 'APPLIED', 'REJECTED', 'FILTERED', 'SUPERSEDED', 'RECEIVED'],
          subs.map((s) => [String(s.id), s.partner, s.originalName, s.state, String(s.rows ?? ''), String(s.applied ?? ''), String(s.rejected ?? ''), String(s.filtered ?? ''), String(s.superseded ?? ''), s.receivedAt]),
          { timeZone },
        ),
      );
    });

  program
    .command('submission')
    .description('One submission: ledger row and its rejected rows.')
    .argument('<id>', 'submission id', (v) => Number.parseInt(v, 10))
    .option('--json', 'print JSON')
    .action(async (id: number, opts: { json?: boolean }, cmd: Command) => {
      const out = await withLotgate(cmd, async (lg) => {
        const sub = await lg.store.ledger.getSubmission(id);
        if (!sub) throw new UserError(`no submission ${id} (see \`lotgate submissions\`)`, 4);
        // The operator on the server also sees where the original and its acknowledgment are.
        const stateOf = async (other: number | null) => (other === null ? undefined : (await lg.store.ledger.getSubmission(other))?.state);
        const links = { resendOf: await stateOf(sub.resendOf), duplicateOf: await stateOf(sub.duplicateOf), replayOf: await stateOf(sub.replayOf) };
        const resentAs = (await lg.store.ledger.listResendsOf(id)).map((r) => r.id);
        return { ...sub, ...(await submissionView(lg.store, sub)), resentAs, links, timeZone: lg.config.timezone };
      });
      if (opts.json) {
        const { links: _links, timeZone: _zone, ...json } = out;
        return printJson(json);
      }
      const { errors, errorCount, links, resentAs, timeZone, ...sub } = out;
      for (const [k, v] of Object.entries(sub)) {
        if (v === null || v === undefined) continue;
        const state = links[k as keyof typeof links];
        process.stdout.write(`${k.padEnd(14)} ${typeof v === 'string' ? humanTime(v, { timeZone }) : v}${state ? ` (${state})` : ''}\n`);
      }
      if (resentAs.length) process.stdout.write(`${'resentAs'.padEnd(14)} ${resentAs.join(', ')}\n`);
      if (errorCount) {
        process.stdout.write(`\n${errorCount} error(s) and warning(s) (W_*):\n`);
        process.stdout.write(renderTable(['LINE', 'COL', 'FIELD', 'CODE', 'MESSAGE'], errors.map((e) => [String(e.line ?? ''), String(e.column ?? ''), e.field ?? '', e.code, e.message])));
      }
    });

  const audit = program.command('audit').description('The append-only, hash-chained audit trail.');
  registerAuditAnchorCommands(audit);
  audit
    .command('list')
    .description('Recent audit events.')
    .option('--subject <s>', 'only events about this subject, e.g. submission:12 or lot:000000000010012345/L2026-0001')
    .option('-n, --limit <n>', 'at most n', (v) => Number.parseInt(v, 10), 50)
    .option('--json', 'print JSON')
    .action(async (opts: { subject?: string; limit: number; json?: boolean }, cmd: Command) => {
      const { events, timeZone } = await withLotgate(cmd, async (lg) => ({ events: await lg.store.audit.listAudit({ subject: opts.subject, limit: opts.limit }), timeZone: lg.config.timezone }));
      if (opts.json) return printJson(events);
      process.stdout.write(renderTable(['SEQ', 'AT', 'ACTOR', 'ACTION', 'SUBJECT'], events.map((e: any) => [String(e.seq), e.at, e.actor, e.action, e.subject]), { timeZone }));
    });
}
