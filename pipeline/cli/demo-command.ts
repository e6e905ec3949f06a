// `lotgate demo` (npm run demo): the whole loop on embedded defaults. Starts every role, uploads
// the demo partners' fixture files through the real SFTP drop zone with their dev-only keys,
// waits for each acknowledgment, prints the readiness board — and keeps serving so a newcomer
// can upload a file of their own.

import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoUserLines, ensureDemoUsers } from './demo-users.js';
import type { Command } from 'commander';
import SftpClient from 'ssh2-sftp-client';
import { findJob, JOBS } from '../../jobs/index.js';
import type { Acknowledgment, PartnerConfig } from '../model/types.js';
import { TERMINAL_STATES } from '../model/types.js';
import { latestAckPath } from '../ingest/ack.js';
import { createLogger, createLotgate } from '../lotgate.js';
import { startServer, type RunningServer } from '../runtime/server.js';
import { runJob } from '../scheduler/runner.js';
import { loadJobsConfig } from '../scheduler/scheduler.js';
import { FULL_CONFIG_CHECK } from './config-parts.js';
import { configFrom, UserError } from './context.js';
import { renderTable } from './render.js';
import { EXTRA_ROLES, parseRoles, waitForSignal } from './server-commands.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** ERP master data first: partner files refer to lots and PO lines the ERP creates. */
const DEMO_ORDER = ['erp', 'acme-cmo', 'bravo-lab', 'delta-cmo'];

interface Upload {
  partner: string;
  file: string;
}

function demoUploads(server: RunningServer, partners: Map<string, PartnerConfig>, select: (p: PartnerConfig, name: string) => { name: string } | undefined): Upload[][] {
  const batches: Upload[][] = [];
  for (const id of DEMO_ORDER) {
    const partner = partners.get(id);
    const dir = path.join(ROOT, 'fixtures', id);
    if (!partner || !existsSync(dir) || !server.sftpPartners.includes(id)) continue;
    // Only files one of the partner's feeds accepts (not the expected-output JSON next to them),
    // in the order of the partner's feeds.
    const files = readdirSync(dir)
      .map((name) => ({ name, feed: select(partner, name)?.name }))
      .filter((f): f is { name: string; feed: string } => f.feed !== undefined)
      .sort((a, b) => partner.feeds.indexOf(a.feed.split('/')[1]) - partner.feeds.indexOf(b.feed.split('/')[1]) || a.name.localeCompare(b.name));
    batches.push(files.map((f) => ({ partner: id, file: path.join(dir, f.name) })));
  }
  return batches;
}

async function upload(port: number, u: Upload): Promise<void> {
  const client = new SftpClient();
  try {
    await client.connect({ host: '127.0.0.1', port, username: u.partner, privateKey: readFileSync(path.join(ROOT, 'fixtures', 'keys', u.partner)), readyTimeout: 10_000 });
    await client.put(u.file, `/inbound/${path.basename(u.file)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function waitForAck(dropDir: string, u: Upload, since: number, timeoutMs: number): Promise<Acknowledgment> {
  const file = latestAckPath(dropDir, u.partner, path.basename(u.file));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      try {
        const ack = JSON.parse(readFileSync(file, 'utf8')) as Acknowledgment;
        if (Date.parse(ack.receivedAt) >= since - 1000 && TERMINAL_STATES.includes(ack.state)) return ack;
      } catch {
        // written atomically, but a half-read on a slow disk is retried
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new UserError(`no acknowledgment for ${u.partner}/${path.basename(u.file)} after ${timeoutMs / 1000} s: see \`lotgate status\` and the log above`, 1);
}

/** git keeps no file modes but the executable bit: OpenSSH refuses private keys others can read. */
function protectDemoKeys(): void {
  const dir = path.join(ROOT, 'fixtures', 'keys');
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (!name.includes('.')) chmodSync(path.join(dir, name), 0o600);
}

function countBy(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Start lotgate, upload the demo partners\' files over SFTP, print the readiness board, keep serving.')
    .option('--no-serve', 'stop after printing the board (for scripts)')
    .action(async (opts: { serve: boolean }, cmd: Command) => {
      // The demo serves the published demo keys on purpose (see `demo` in config.ts).
      const config = { ...configFrom(cmd, FULL_CONFIG_CHECK), demo: true };
      protectDemoKeys();
      const { roles, modules } = parseRoles([], EXTRA_ROLES);
      // The demo's own lines tell the story; the JSON logs only when asked (LOTGATE_LOG_LEVEL=info).
        const server = await startServer({ config, roles, modules, log: createLogger(process.env.LOTGATE_LOG_LEVEL ?? 'warn') }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') throw new UserError(`port ${config.sftp.port} (SFTP) or ${config.http.port} (HTTP API) is in use: stop the other lotgate, or run LOTGATE_SFTP_PORT=2223 LOTGATE_HTTP_PORT=8081 npm run demo`, 69);
        throw err;
      });
      let stopped = false;
      const stop = async () => {
        if (!stopped) {
          stopped = true;
          await server.stop();
        }
      };
      try {
        process.stderr.write(server.banner.join('\n') + '\n\n');
        const out = (s: string) => process.stdout.write(s);
        const lg = await createLotgate(config);
        try {
          const port = server.sftp!.port;
          for (const batch of demoUploads(server, lg.partners(), (p, n) => {
            const f = lg.mappings.select(p, n);
            return f && !('diagnostics' in f) ? f : undefined;
          })) {
            const since = Date.now();
            for (const u of batch) {
              await upload(port, u);
              out(`uploaded  sftp ${u.partner}@127.0.0.1:/inbound/${path.basename(u.file)}\n`);
            }
            for (const u of batch) {
              const ack = await waitForAck(config.dropDir, u, since, 60_000);
              const errs = ack.errors.length ? `  (${ack.errors.map((e) => `${e.code} line ${e.line ?? '-'}`).join(', ')})` : '';
              out(`  ack     ${u.partner}/outbound/${ack.ackFile ?? `${ack.file}.ack.json`}: ${ack.state}, rows ${ack.counts.rows}, applied ${ack.counts.applied}, rejected ${ack.counts.rejected}${ack.counts.filtered ? `, filtered ${ack.counts.filtered}` : ''}${ack.counts.superseded ? `, superseded ${ack.counts.superseded}` : ''}${errs}\n`);
            }
          }
          const lots = await lg.store.reads.listLots({ limit: 1000 });
          out('\nReadiness board (lotgate lots):\n\n');
          out(renderTable(['LOT', 'MATERIAL', 'VENDOR', 'READINESS', 'LATE', 'REASONS'], lots.map((l) => [l.lotNumber, l.materialId, l.vendor ?? '', l.readiness ?? '-', l.late ? 'late' : '', [...new Set(l.reasonCodes)].join(' ')])));
          // The way out: the scheduler pushes every minute; the demo does not make you wait.
          const push = findJob('push')!;
          const outcome = await runJob(push, loadJobsConfig(config, JOBS).jobs.get('push')!, { config, log: createLogger('warn'), openLotgate: () => createLotgate(config, { log: createLogger('warn') }) }, { trigger: 'manual' });
          const sent = await lg.store.outbox.listOutbox({ state: 'sent', limit: 1000 });
          out(`\nOutbox pushed to ERP/QMS (lotgate outbox list): ${sent.length} message(s) sent${outcome.status === 'busy' ? ' (push was already running in the scheduler)' : ''} — files in ${path.join(config.dataDir, 'outbound')}\n`);
          for (const [topic, n] of countBy(sent.map((m) => m.topic))) out(`  ${topic.padEnd(28)} ${n}\n`);
          if (server.http) for (const l of demoUserLines(await ensureDemoUsers(lg.store, config, new Set(lg.partners().keys())), server.http.url)) out(`${l}\n`);
        } finally {
          await lg.close();
        }
        out(
          [
            '',
            'Try it yourself (another terminal, in this folder):',
            `  sftp -P ${server.sftp!.port} -i fixtures/keys/acme-cmo acme-cmo@127.0.0.1     then: put fixtures/acme-cmo/Chargenstatus_20261119.csv inbound/`,
            '                                                                   and: get outbound/Chargenstatus_20261119.csv.ack.json',
            '                                                                   (every upload also keeps its own outbound/<name>.<submission>.ack.json)',
            '  npx lotgate lot NW26-0415          one lot with reasons and evidence',
            '  npx lotgate submissions            the ledger',
            '  npx lotgate status                 queues, Redis, store',
            '  npx lotgate outbox list            what went to ERP/QMS',
            ...(server.http
              ? [
                  `  HTTP API                           ${server.http.url}/api/v1  (OpenAPI: ${server.http.url}/api/v1/openapi.json)`,
                  '  npx lotgate user add alice --name "Alice QA" --role qa     a login for the API (docs/api.md)',
                ]
              : []),
            '',
          ].join('\n'),
        );
        if (!opts.serve) return;
        const stopped = waitForSignal(stop); // before the line that invites Ctrl-C
        process.stderr.write('Serving. Ctrl-C to stop.\n');
        await stopped;
      } finally {
        await stop();
      }
      setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
    });
}
