// `lotgate mapping suggest <file>`: a draft mapping from a sample file, for the analyst to
// correct (pipeline/mapping/draft/). YAML to stdout or --out (never over an existing file without
// --force); --json prints the detection report instead.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { FileError } from '../model/types.js';
import { formatDiagnostic } from '../mapping/diagnostics.js';
import { suggestMapping } from '../mapping/draft/suggest-mapping.js';
import { printJson, UserError } from './context.js';

interface SuggestCliOptions {
  out?: string;
  force?: boolean;
  json?: boolean;
  partner?: string;
  feed?: string;
  sheet?: string;
}

export function registerSuggestCommand(mapping: Command): void {
  mapping
    .command('suggest')
    .description('Draft a mapping from a sample file (CSV/TXT, .xlsx): encoding, delimiter, header row, key/value blocks, column types and date patterns, guessed fields — each guess commented, for the analyst to correct.')
    .argument('<file>', 'sample file')
    .option('--out <path>', 'write the draft there (refuses an existing file without --force)')
    .option('--force', 'with --out: replace an existing file')
    .option('--json', 'print the detection report (and the draft) as JSON')
    .option('--partner <id>', 'partner id to write into the draft', 'new-partner')
    .option('--feed <name>', 'feed name (default: from the file name)')
    .option('--sheet <name|n>', 'workbooks: the sheet to read (name, or number among the visible sheets)')
    .action(async (file: string, opts: SuggestCliOptions) => {
      if (!existsSync(file)) throw new UserError(`no such file: ${file}`, 2);
      if (opts.out !== undefined && existsSync(opts.out) && !opts.force) {
        throw new UserError(`E_SUGGEST_EXISTS: ${opts.out} exists; mapping suggest does not overwrite it. Pass --force to replace it, or choose another --out path.`, 2);
      }
      const sheet = opts.sheet === undefined ? undefined : /^\d+$/.test(opts.sheet) ? Number(opts.sheet) : opts.sheet;
      let draft;
      try {
        draft = await suggestMapping(file, { ...(opts.partner ? { partner: opts.partner } : {}), ...(opts.feed ? { feed: opts.feed } : {}), ...(sheet !== undefined ? { sheet } : {}) });
      } catch (e) {
        if (e instanceof FileError) throw new UserError(`${e.code}: ${e.message}`, 3);
        throw e;
      }
      if (opts.out !== undefined) {
        try {
          // The partner's mapping folder may not exist yet: a draft is often its first file.
          mkdirSync(path.dirname(opts.out), { recursive: true });
          writeFileSync(opts.out, draft.yaml);
        } catch (e) {
          throw new UserError(`cannot write the draft to ${opts.out}: ${(e as Error).message}`, 1);
        }
      }
      if (opts.json) printJson({ ...draft.report, ...(opts.out ? { out: opts.out } : { yaml: draft.yaml }) });
      else if (opts.out === undefined) process.stdout.write(draft.yaml);
      else process.stdout.write(`wrote ${opts.out}: ${draft.report.record.kind} with ${draft.report.fields.length} guessed field(s); check every "guess" comment, then run \`lotgate mapping test\`\n`);
      // The draft always loads; should it not, say so (a bug in suggest, not in the sample).
      for (const d of draft.report.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    });
}
