// `lotgate bans` (the drop zone's brute-force bans in force, shared by every process of the data
// dir) and `lotgate bans lift ip|user <key> --reason …` (an operator ends one; audited).

import type { Command } from 'commander';
import type { BanKind } from '../store/store.js';
import { printJson, UserError, withLotgate } from './context.js';
import { renderTable } from './render.js';

export function registerBanCommands(program: Command): void {
  const bans = program
    .command('bans')
    .description('SFTP brute-force bans in force (per IP, and per user name for password logins).')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await withLotgate(cmd, (lg) => lg.store.pulls.listActiveBans(Date.now()));
      if (opts.json) return printJson(list.map((b) => ({ ...b, until: new Date(b.until).toISOString(), bannedAt: new Date(b.bannedAt).toISOString() })));
      if (!list.length) return void process.stdout.write('no bans in force\n');
      process.stdout.write(renderTable(['KIND', 'KEY', 'UNTIL', 'STRIKE', 'SINCE'], list.map((b) => [b.kind, b.key, new Date(b.until).toISOString(), String(b.strike), new Date(b.bannedAt).toISOString()])));
    });

  bans
    .command('lift')
    .description('End a ban now (every process of the data dir honours it); recorded with who and why.')
    .argument('<kind>', 'ip or user')
    .argument('<key>', 'the IP address or the user name')
    .requiredOption('-r, --reason <text>', 'why (goes to the audit trail)')
    .option('--by <who>', 'who decides (default $USER)')
    .action(async (kind: string, key: string, opts: { reason: string; by?: string }, cmd: Command) => {
      if (kind !== 'ip' && kind !== 'user') throw new UserError(`kind must be ip or user, not ${JSON.stringify(kind)}`, 2);
      const by = (opts.by ?? process.env.USER ?? '').trim();
      if (!by) throw new UserError('say who decides: --by <name> (or set $USER)', 2);
      const reason = opts.reason.trim();
      if (!reason) throw new UserError('--reason "…" is required: the audit trail records why', 2);
      const lifted = await withLotgate(cmd, (lg) =>
        lg.store.transaction(async (tx) => {
          const ok = await tx.pulls.liftBan(kind as BanKind, key, Date.now());
          if (ok) await tx.audit.appendAudit({ actor: `operator:${by}`, action: 'sftp.ban_lifted', subject: kind === 'ip' ? `ip:${key}` : `sftp-user:${key}`, details: { kind, key, by, reason } });
          return ok;
        }),
      );
      if (!lifted) throw new UserError(`no ${kind} ban in force for ${key} (see \`lotgate bans\`)`, 4);
      process.stdout.write(`ban of ${kind} ${key} lifted by ${by}\n`);
    });
}
