// `lotgate ingest` and `lotgate replay`: the serverless path through the same code the workers run.

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { processSubmission, type ProcessResult } from '../ingest/process-submission.js';
import { registerFile } from '../intake/register-file.js';
import type { Lotgate } from '../lotgate.js';
import { printJson, UserError, withLotgate } from './context.js';

const STATE_MARK: Record<string, string> = {
  applied: 'applied',
  applied_with_errors: 'applied with errors',
  rejected: 'REJECTED',
  duplicate: 'duplicate',
  quarantined: 'QUARANTINED',
};

function progressFor(file: string): { onProgress?: (rows: number) => void; stop: () => void } {
  // Only big files on a terminal get a live counter; scripts and small files stay quiet.
  if (!process.stderr.isTTY || statSync(file).size < 20 * 1024 * 1024) return { stop: () => {} };
  const bar = new SingleBar({ format: `  ${path.basename(file)} | {value} rows`, stream: process.stderr, hideCursor: true }, undefined);
  bar.start(0, 0);
  return { onProgress: (rows) => bar.update(rows), stop: () => bar.stop() };
}

export function printResult(r: ProcessResult, file: string): void {
  const a = r.ack;
  process.stdout.write(
    `${file}: ${STATE_MARK[a.state] ?? a.state} — rows ${a.counts.rows}, applied ${a.counts.applied}, rejected ${a.counts.rejected}, filtered ${a.counts.filtered}` +
      (a.counts.superseded ? `, superseded ${a.counts.superseded}` : '') +
      ` (submission ${r.submissionId})\n`,
  );
  for (const e of a.errors.slice(0, 10)) {
    const where = [e.line !== undefined ? `line ${e.line}` : null, e.column !== undefined ? `col ${e.column}` : null, e.field ? `field ${e.field}` : null].filter(Boolean).join(', ');
    process.stdout.write(`    ${e.code}${where ? ` (${where})` : ''}: ${e.message}\n`);
  }
  const w = a.warnings ?? [];
  if (w.length > 0) process.stdout.write(`    ${w.length} warning(s), first ${w[0].code}${w[0].line !== undefined ? ` (line ${w[0].line})` : ''}: ${w[0].message}\n`);
  const more = a.errors.length - 10 + (a.errorsTruncated ?? 0);
  if (more > 0) process.stdout.write(`    … and ${more} more (see ${r.ackPath})\n`);
  if (a.message && (a.state !== 'applied' || a.counts.filtered + a.counts.superseded > 0)) process.stdout.write(`    ${a.message}\n`);
}

export async function ingestFiles(lg: Lotgate, partnerId: string, files: string[], onResult?: (r: ProcessResult, file: string) => void): Promise<ProcessResult[]> {
  const partner = lg.partners().get(partnerId);
  if (!partner) throw new UserError(`unknown partner "${partnerId}". Known partners: ${[...lg.partners().keys()].join(', ') || '(none)'} (files in ${lg.config.partnersDir}).`, 2);
  const results: ProcessResult[] = [];
  for (const file of files) {
    if (!existsSync(file) || !statSync(file).isFile()) throw new UserError(`not a file: ${file}`, 2);
    const id = await registerFile(lg, { partner: partnerId, path: file, name: path.basename(file), source: 'cli', removeSource: false });
    const progress = progressFor(file);
    try {
      const r = await processSubmission(lg, id, { onProgress: progress.onProgress });
      results.push(r);
      onResult?.(r, file);
    } finally {
      progress.stop();
    }
  }
  return results;
}

export function registerIngestCommands(program: Command): void {
  program
    .command('ingest')
    .description('Ingest partner files without the servers: ledger, archive, mapping, one transaction, acknowledgment.')
    .requiredOption('-p, --partner <id>', 'partner the files come from')
    .argument('<files...>', 'files, applied in the order given')
    .option('--json', 'print the acknowledgments as JSON')
    .action(async (files: string[], opts: { partner: string; json?: boolean }, cmd: Command) => {
      const results = await withLotgate(cmd, (lg) => ingestFiles(lg, opts.partner, files, opts.json ? undefined : printResult));
      if (opts.json) printJson(results.map((r) => r.ack));
      if (results.some((r) => r.state === 'rejected' || r.state === 'quarantined')) process.exitCode = 3;
    });

  program
    .command('replay')
    .description('Re-apply an archived original (e.g. after a mapping fix). Facts are upserted, never duplicated.')
    .argument('<submissionId>', 'submission to replay', (v) => Number.parseInt(v, 10))
    .option('--json', 'print the acknowledgment as JSON')
    .action(async (id: number, opts: { json?: boolean }, cmd: Command) => {
      const r = await withLotgate(cmd, async (lg) => {
        const sub = await lg.store.ledger.getSubmission(id);
        if (!sub) throw new UserError(`no submission ${id} in the ledger (see \`lotgate submissions\`)`, 2);
        const newId = await registerFile(lg, { partner: sub.partner, path: sub.archivePath, name: sub.originalName, source: 'replay', removeSource: false, replayOf: id });
        return processSubmission(lg, newId);
      });
      if (opts.json) printJson(r.ack);
      else printResult(r, `replay of ${id}`);
      if (r.state === 'rejected' || r.state === 'quarantined') process.exitCode = 3;
    });
}
