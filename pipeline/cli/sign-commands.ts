// `lotgate lot dispose <lot> --decision released --meaning release --user <name>`: a lot
// disposition recorded in lotgate and signed (21 CFR Part 11) — the signer re-authenticates
// with password and TOTP code, read from the terminal (or stdin lines, for scripts).

import type { Command } from 'commander';
import { readLines } from './prompt.js';
import { accessFor } from '../auth/permissions.js';
import { AuthError, AuthService } from '../auth/service.js';
import { lotViewsByNumber } from '../read/lot.js';
import { DECISIONS, MEANINGS } from '../sign/record.js';
import { SignService } from '../sign/service.js';
import { printJson, UserError, withLotgate } from './context.js';


export function registerSignCommands(program: Command): void {
  const lot = program.commands.find((c) => c.name() === 'lot') ?? program.command('lot').description('One lot and decisions on it.');
  lot
    .command('dispose')
    .description('Record and sign a disposition (released, rejected, quarantine): password and TOTP code are asked for.')
    .argument('<lotNumber>')
    .option('-m, --material <id>', 'material id, when the lot number exists for several materials')
    .requiredOption('--decision <decision>', DECISIONS.join(' | '))
    .option('--meaning <meaning>', `what the signature means: ${MEANINGS.join(', ')} (default from the decision)`)
    .requiredOption('-u, --user <username>', 'the signer (a lotgate user with the qa role for this lot)')
    .option('--json', 'print JSON')
    .action(async (lotNumber: string, o: { material?: string; decision: string; meaning?: string; user: string; json?: boolean }, cmd: Command) => {
      const meaning = o.meaning ?? ({ released: 'release', rejected: 'rejection', quarantine: 'quarantine' } as Record<string, string>)[o.decision] ?? '';
      const out = await withLotgate(cmd, async (lg) => {
        const auth = new AuthService(lg.store, lg.config, lg.now);
        const row = await lg.store.auth.getPrincipalByName(o.user);
        if (!row || row.disabledAt) throw new UserError(`no active user "${o.user}" (see lotgate user list)`, 2);
        const principal = await auth.principalOf(row);
        const access = accessFor(principal, 'lots:dispose');
        if (access === null) throw new UserError(`${o.user} may not sign dispositions (needs a role with lots:dispose, e.g. qa)`, 2);
        const lots = await lotViewsByNumber(lg.store, lg.config, access, lotNumber, o.material);
        if (lots.length === 0) throw new UserError(`no lot "${lotNumber}" that ${o.user} may dispose (see lotgate lots)`, 4);
        if (lots.length > 1) throw new UserError(`lot number "${lotNumber}" exists for several materials: add --material`, 2);
        const sign = new SignService({ store: lg.store, config: lg.config, auth, partners: lg.partners, now: lg.now });
        try {
          const ch = await sign.challengeLot(principal, lots[0].lotId, o.decision, meaning);
          process.stderr.write(`Signing: ${o.decision} of lot ${lotNumber} (material ${lots[0].materialId}), meaning "${meaning}", readiness ${ch.record.readiness?.state ?? 'not computed'}\n  record sha256 ${ch.recordHash}\n`);
          const [password, totp] = await readLines([`Password for ${o.user}: `, 'Authenticator code: ']);
          return await sign.signLot({ principal, lotId: lots[0].lotId, challengeId: ch.challengeId, password, totp: totp.trim() });
        } catch (e) {
          if (e instanceof AuthError) throw new UserError(`${e.code}: ${e.message}`, e.status === 404 ? 4 : 2);
          throw e;
        }
      });
      // `lot` itself has --json too; commander gives it to whichever command it meets first.
      if (o.json ?? (cmd.optsWithGlobals() as { json?: boolean }).json) return printJson(out);
      process.stdout.write(`signed: ${out.decision} by ${out.signer.printedName} at ${out.signedAt} (${out.localTime} ${out.timeZone}), meaning ${out.meaning}\n  record sha256 ${out.recordHash}\n`);
    });
}
