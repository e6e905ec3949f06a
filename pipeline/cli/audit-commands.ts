// `lotgate audit verify` (the chain, its head, and every anchor kept outside the database) and
// `lotgate audit anchor` (write the head to the anchor file and the outbox now).

import type { Command } from 'commander';
import { anchorAuditHead, anchorFileOf, parseExpectedHead, verifyWithAnchors, type AuditHead } from '../audit/anchors.js';
import { printJson, UserError, withLotgate } from './context.js';

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

export function registerAuditAnchorCommands(audit: Command): void {
  audit
    .command('verify')
    .description('Walk the hash chain and print its head; check it still contains every anchored head. Exits 1 if anything was altered, removed or rehashed.')
    .option('--expect <seq:hash>', 'a head kept elsewhere (e.g. from an earlier `audit verify`); fails unless the chain contains it (repeatable)', collect)
    .option('--anchor-file <path>', 'anchor file to check against (default: config audit.anchorFile, <dataDir>/audit-anchors.log)')
    .option('--json', 'print JSON')
    .action(async (opts: { expect?: string[]; anchorFile?: string; json?: boolean }, cmd: Command) => {
      const expected: AuditHead[] = (opts.expect ?? []).map((e) => {
        const h = parseExpectedHead(e);
        if (!h) throw new UserError(`E_AUDIT_EXPECT_FORMAT: --expect ${JSON.stringify(e)} is not <seq>:<hash>; copy the head line of an earlier \`lotgate audit verify\`, e.g. --expect 1234:${'0'.repeat(64)}`, 2);
        return h;
      });
      const { res, sigs } = await withLotgate(cmd, async (lg) => ({
        res: await verifyWithAnchors(lg.store, opts.anchorFile ?? anchorFileOf(lg.config), expected),
        // Every Part 11 signature's record hash, recomputed from what it signed.
        sigs: await (await import('../sign/verify.js')).verifySignatures(lg.store),
      }));
      if (opts.json) printJson({ ...res, signatures: sigs });
      else {
        const out = (s: string) => process.stdout.write(s + '\n');
        if (res.reason === undefined) out(`hash chain intact: ${res.count} events`);
        else out(`AUDIT TRAIL BROKEN at event ${res.brokenAt}: ${res.reason} (${res.count} events checked)`);
        out(`head: ${res.head.seq}:${res.head.hash}`);
        if (res.latestAnchor) out(`anchors: ${res.anchorsChecked} checked (${res.anchorFile}; latest ${res.latestAnchor.seq} at ${res.latestAnchor.at})`);
        else out(`anchors: none in ${res.anchorFile}${expected.length ? `; ${expected.length} --expect checked` : ' (W_AUDIT_NO_ANCHORS: nothing outside the database to compare with; keep the head line above, or let the audit-anchor job run)'}`);
        for (const p of res.problems) out(`${p.code}: ${p.message}`);
        for (const b of sigs.bad) out(`SIGNATURE BROKEN at event ${b.seq}: ${b.reason}`);
        if (!sigs.bad.length && sigs.checked) out(`signatures: ${sigs.checked} record hash(es) recomputed and matching`);
        if (res.ok && !sigs.bad.length) out('audit trail verified');
      }
      if (!res.ok || sigs.bad.length) process.exitCode = 1;
    });

  audit
    .command('anchor')
    .description('Write the head of the chain now to the anchor file and, as an audit.anchor message, to the outbox (the audit-anchor job does this on its schedule).')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const r = await withLotgate(cmd, (lg) => anchorAuditHead(lg, 'cli'));
      if (opts.json) return printJson(r);
      process.stdout.write(`${r.written ? 'anchored' : 'already anchored'}: ${r.head.seq}:${r.head.hash} in ${r.file}${r.outbox ? ' and the outbox (audit.anchor)' : ''}\n`);
    });
}
