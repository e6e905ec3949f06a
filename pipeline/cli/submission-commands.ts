// `lotgate submission approve|reject <id> --reason "…"`: the decision on a file from a partner in
// `review` mode. Approval applies the held file exactly once (a second approval changes nothing),
// with who, when and why in the audit trail; the partner then gets the final acknowledgment.

import type { Command } from 'commander';
import { readLines } from './prompt.js';
import { AuthError, AuthService } from '../auth/service.js';
import { signReview } from '../sign/review.js';
import type { SignatureManifest } from '../sign/service.js';
import { processSubmission, rejectReview, type ProcessResult } from '../ingest/process-submission.js';
import type { IngestDeps } from '../ingest/deps.js';
import { printJson, UserError, withLotgate } from './context.js';
import { printResult } from './ingest-commands.js';
import { ReviewStaleError } from '../ingest/review-pin.js';

export interface ReviewDecision {
  submissionId: number;
  /** False when the submission had already been decided: nothing changed. */
  changed: boolean;
  state: string;
  by: string;
  reason: string;
  result: ProcessResult;
  /** A newer preview of the same content replaced this one: decide on that submission. */
  supersededBy?: number;
}

async function checkReviewable(lg: IngestDeps, id: number): Promise<void> {
  const sub = await lg.store.ledger.getSubmission(id);
  if (!sub) throw new UserError(`no submission ${id} (see \`lotgate submissions\`)`, 4);
  if (sub.state === 'received' || sub.state === 'processing') {
    throw new UserError(`submission ${id} is still ${sub.state}; it can be reviewed once it is parsed (state pending_review)`, 2);
  }
}

export async function approveSubmission(lg: IngestDeps, id: number, by: string, reason: string): Promise<ReviewDecision> {
  await checkReviewable(lg, id);
  const sub = (await lg.store.ledger.getSubmission(id))!;
  let result: ProcessResult;
  try {
    result = await processSubmission(lg, id, sub.state === 'pending_review' ? { approval: { by, reason } } : {});
  } catch (err) {
    if (err instanceof ReviewStaleError) throw new UserError(err.message, 3);
    throw err;
  }
  const supersededBy = sub.errorCode === 'W_REVIEW_SUPERSEDED' && sub.duplicateOf !== null ? sub.duplicateOf : undefined;
  return { submissionId: id, changed: result.approved === true, state: result.state, by, reason, result, ...(supersededBy !== undefined ? { supersededBy } : {}) };
}

export async function rejectSubmission(lg: IngestDeps, id: number, by: string, reason: string): Promise<ReviewDecision> {
  await checkReviewable(lg, id);
  const { changed, result } = await rejectReview(lg, id, by, reason);
  return { submissionId: id, changed, state: result.state, by, reason, result };
}

function whoAmI(by: string | undefined): string {
  const who = (by ?? process.env.USER ?? process.env.USERNAME ?? '').trim();
  if (!who) throw new UserError('say who decides: --by <name> (or set $USER)', 2);
  return who;
}

function requireReason(reason: string | undefined): string {
  const r = (reason ?? '').trim();
  if (!r) throw new UserError('--reason "…" is required: the audit trail records why', 2);
  return r;
}


export function registerSubmissionCommands(program: Command): void {
  // `lotgate submission <id>` (show) is defined by the read commands; the decisions are its subcommands.
  const submission =
    program.commands.find((c) => c.name() === 'submission') ?? program.command('submission').description('One submission and decisions on it.');

  const decide = (verb: 'approve' | 'reject') =>
    submission
      .command(verb)
      .description(
        verb === 'approve'
          ? 'Apply a file held for review (partner in review mode), once; recorded with who, when and why.'
          : 'Turn down a file held for review: nothing from it is applied; recorded with who, when and why.',
      )
      .argument('<id>', 'submission id', (v) => Number.parseInt(v, 10))
      .requiredOption('-r, --reason <text>', 'why (goes to the audit trail and the acknowledgment)')
      .option('--by <who>', 'who decides (default $USER); unsigned — prefer --user')
      .option('-u, --user <username>', 'sign the decision as this lotgate user (Part 11): password and TOTP code are asked for')
      .option('--json', 'print JSON')
      .action(async (id: number, opts: { reason: string; by?: string; user?: string; json?: boolean }, cmd: Command) => {
        if (!Number.isInteger(id)) throw new UserError('the submission id must be a number', 2);
        const reason = requireReason(opts.reason);
        let signature: SignatureManifest | null = null;
        const d = await withLotgate(cmd, async (lg) => {
          const decide = (by: string) => (verb === 'approve' ? approveSubmission(lg, id, by, reason) : rejectSubmission(lg, id, by, reason));
          if (!opts.user) return decide(whoAmI(opts.by));
          await checkReviewable(lg, id);
          const [password, totp] = await readLines([`Password for ${opts.user}: `, 'Authenticator code: ']);
          let out: ReviewDecision | undefined;
          try {
            signature = await signReview(
              { store: lg.store, auth: new AuthService(lg.store, lg.config, lg.now), timeZone: lg.config.auth.timeZone, now: lg.now },
              { username: opts.user, submissionId: id, decision: verb, reason, password, totp: totp.trim() },
              async (printedName) => (out = await decide(printedName)),
            );
          } catch (e) {
            if (e instanceof AuthError) throw new UserError(`${e.code}: ${e.message}`, e.status === 404 ? 4 : 2);
            throw e;
          }
          return out!;
        });
        const by = d.by;
        // `submission` itself has --json too; commander gives it to whichever command it meets first.
        const json = opts.json ?? (cmd.optsWithGlobals() as { json?: boolean }).json;
        if (json) return printJson({ submissionId: d.submissionId, changed: d.changed, state: d.state, by: d.by, reason: d.reason, ack: d.result.ack, ...(d.supersededBy !== undefined ? { supersededBy: d.supersededBy } : {}), ...(opts.user ? { signature } : {}) });
        if (d.supersededBy !== undefined) {
          process.stdout.write(`submission ${id} was superseded by the newer preview of the same file, submission ${d.supersededBy}; nothing changed: decide on ${d.supersededBy}\n`);
          return;
        }
        if (!d.changed) {
          process.stdout.write(`submission ${id} was already decided (${d.state}); nothing changed\n`);
          return;
        }
        printResult(d.result, `submission ${id} ${verb === 'approve' ? 'approved' : 'rejected'} by ${by}`);
      });

  decide('approve');
  decide('reject');
}
