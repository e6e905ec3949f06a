// The analyst's loop: `lotgate mapping check` (file:line:col diagnostics) and
// `lotgate mapping test` (dry run on a sample file: records and row errors, no writes).

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadPartners } from '../config/partners.js';
import { formatDiagnostic, type Diagnostic } from '../mapping/diagnostics.js';
import { dryRun } from '../mapping/dry-run.js';
import { MappingCatalog } from '../mapping/catalog.js';
import { checkSamples } from '../mapping/sample-check.js';
import { loadMappings } from '../mapping/registry.js';
import { loadMapping } from '../mapping/load.js';
import { compileMapping, type CompiledMapping } from '../mapping/compile.js';
import type { MappingSpec } from '../mapping/spec.js';
import { configFrom, printJson, UserError } from './context.js';
import { renderTable } from './render.js';
import { registerSuggestCommand } from './mapping-suggest-command.js';

export function registerMappingCommands(program: Command): void {
  const mapping = program.command('mapping').description('Check and try out partner mapping files.');
  registerSuggestCommand(mapping);

  mapping
    .command('check')
    .description('Validate mapping files (schema + semantic checks); errors as file:line:col. Non-zero exit on errors.')
    .argument('[partner]', 'only this partner\'s mappings')
    .option('--json', 'print diagnostics as JSON')
    .action(async (partnerId: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      const set = loadMappings(config.mappingsDir, partnerId);
      const diagnostics: Diagnostic[] = [...set.diagnostics];
      // Each valid mapping against its own sample files (tests:, relative to the project folder).
      const root = path.dirname(path.resolve(config.mappingsDir));
      for (const m of set.mappings) if (m.spec) diagnostics.push(...(await checkSamples(m.path, m.spec, m.hash, root)));
      // A partner that names a feed with no mapping file would reject every file it sends.
      const partners = loadPartners(config.partnersDir);
      for (const p of partners.values()) {
        if (partnerId && p.id !== partnerId) continue;
        for (const feed of p.feeds) {
          if (!set.mappings.some((m) => m.partner === p.id && m.feed === feed)) {
            diagnostics.push({ file: p.source ?? `partners/${p.id}.yaml`, line: 1, col: 1, severity: 'error', code: 'E_FEED_WITHOUT_MAPPING', message: `feed "${feed}" has no mapping file ${path.join(config.mappingsDir, p.id, `${feed}.yaml`)}` });
          }
        }
      }
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      if (opts.json) printJson({ files: set.mappings.map((m) => ({ path: m.path, partner: m.partner, feed: m.feed, hash: m.hash, valid: !!m.spec })), diagnostics });
      else {
        for (const d of diagnostics) process.stdout.write(formatDiagnostic(d) + '\n');
        process.stdout.write(`${set.mappings.length} mapping file(s) checked: ${errors} error(s), ${diagnostics.length - errors} warning(s)\n`);
      }
      if (errors > 0) process.exitCode = 1;
    });

  mapping
    .command('test')
    .description('Dry run: map a sample file with the partner\'s mapping and show canonical records and row errors. Nothing is written.')
    .argument('<partner>', 'partner id')
    .argument('<file>', 'sample file')
    .option('-n, --limit <n>', 'records to show (counts are always complete)', (v) => Number.parseInt(v, 10), 20)
    .option('--json', 'print { records, errors, counts } as JSON')
    .option('--mapping <file>', 'try this mapping file (a draft, e.g. from mapping suggest) instead of the partner\'s installed feeds')
    .action(async (partnerId: string, file: string, opts: { limit: number; json?: boolean; mapping?: string }, cmd: Command) => {
      const config = configFrom(cmd);
      if (!existsSync(file)) throw new UserError(`no such file: ${file}`, 2);
      let feed: { name: string; path: string; hash: string; spec: MappingSpec; compiled: CompiledMapping };
      if (opts.mapping !== undefined) {
        feed = draftFeed(opts.mapping, partnerId);
      } else {
        const partner = loadPartners(config.partnersDir).get(partnerId);
        if (!partner) throw new UserError(`unknown partner "${partnerId}" (no ${path.join(config.partnersDir, `${partnerId}.yaml`)})`, 2);
        const catalog = new MappingCatalog(config.mappingsDir);
        const selected = catalog.select(partner, path.basename(file));
        if (!selected) throw new UserError(`no feed of "${partnerId}" accepts a file named "${path.basename(file)}". Feeds: ${catalog.describe(partner)}. Rename the sample or add a pattern to the mapping's match (or try a draft with --mapping <file>).`, 3);
        if ('diagnostics' in selected) throw new UserError(`mapping ${selected.path} has errors:\n${selected.diagnostics.join('\n')}`, 1);
        feed = selected;
      }
      const res = await dryRun(feed.compiled, feed.spec, file, { limit: opts.json ? undefined : opts.limit });
      if (opts.json) {
        printJson({ mapping: { name: feed.name, path: feed.path, hash: feed.hash }, ...res });
      } else {
        process.stdout.write(`${path.basename(file)} with ${feed.path} (hash ${feed.hash.slice(0, 12)})\n`);
        const c = res.counts;
        process.stdout.write(`rows ${c.rows}: applied ${c.applied}, rejected ${c.rejected}, filtered ${c.filtered} (records ${c.records}, errors ${c.errors})\n`);
        if (res.filteredByCondition.length > 0) {
          process.stdout.write(`filtered rows per condition (a row counts under every record spec that produced nothing):\n`);
          for (const f of res.filteredByCondition) process.stdout.write(`  ${String(f.rows).padStart(6)} × ${f.condition}\n`);
          for (const f of res.filteredBy) process.stdout.write(`  filtered ${f.rows} row(s): ${f.reason}\n`);
        }
        for (const w of res.warnings ?? []) process.stdout.write(`warning ${w.code}${w.line !== undefined ? ` (line ${w.line})` : ''}: ${w.message}\n`);
        const blockText = (b: Record<string, { value: string; line: number }>): string => Object.entries(b).map(([k, v]) => `${k} = ${JSON.stringify(v.value)} (line ${v.line})`).join(', ');
        if (res.sections) for (const s of res.sections) process.stdout.write(`section with header at line ${s.headerLine}: ${blockText(s.blocks) || 'no block values'}\n`);
        else if (res.blocks) process.stdout.write(`block values: ${blockText(res.blocks)}\n`);
        for (const g of res.grids ?? []) {
          process.stdout.write(`${g.kind} grid "${g.label}"${g.plate !== g.label ? ` (plate "${g.plate}")` : ''}: lines ${g.lines[0]}–${g.lines[1]}, ${g.rows} ${g.table === true ? 'wells in a table' : `rows × ${g.columns} columns`}\n`);
        }
        if (res.fixedColumns) {
          process.stdout.write(`fixed-width columns${res.fixedColumns[0]?.firstRow ? ` (values of the first data row, line ${res.fixedColumns[0].firstRow.line})` : ''}:\n`);
          for (const c of res.fixedColumns) process.stdout.write(`  ${c.name.padEnd(16)} ${String(c.start).padStart(4)}-${String(c.end).padEnd(4)} ${c.firstRow ? JSON.stringify(c.firstRow.value) : ''}\n`);
        }
        for (const j of res.joins ?? []) {
          process.stdout.write(`join ${j.name}: ${j.keys} key(s) with a value, ${j.links} containment link(s); ${j.unresolvedRows} row(s) with keys that resolve to nothing${j.unresolvedRows > 0 ? ' (E_JOIN_UNRESOLVED below)' : ''}\n`);
        }
        for (const c of res.recordsPerSpec ?? []) process.stdout.write(`${c.spec}: ${c.records} record(s)${c.each !== null ? `, one per ${c.each}` : ''}\n`);
        if (res.notMatchedByRecordPath) {
          process.stdout.write(`not rows: elements beside the records that xml.record does not match: ${res.notMatchedByRecordPath.map((e) => `<${e.element}> ×${e.count}`).join(', ')}\n`);
        }
        process.stdout.write('\n');
        for (const r of res.records.slice(0, opts.limit)) {
          const ids = r.ids.map((i) => `${i.scheme}=${i.value}`).join(' ');
          process.stdout.write(`line ${r.line}  ${r.kind}  ${ids}  ${JSON.stringify(r.fields)}\n`);
        }
        if (res.counts.records > opts.limit) process.stdout.write(`… ${res.counts.records - opts.limit} more record(s) (--limit, or --json for all)\n`);
        if (res.errors.length) {
          process.stdout.write('\n');
          process.stdout.write(renderTable(['LINE', 'COL', 'FIELD', 'CODE', 'MESSAGE'], res.errors.map((e) => [String(e.line ?? ''), String(e.column ?? ''), e.field ?? '', e.code, e.message])));
        }
      }
      if (res.counts.errors > 0) process.exitCode = 1;
    });
}

/** `mapping test --mapping <file>`: a mapping file outside mappings/ (a draft), checked and compiled as the catalog would. */
function draftFeed(file: string, partnerId: string): { name: string; path: string; hash: string; spec: MappingSpec; compiled: CompiledMapping } {
  if (!existsSync(file)) throw new UserError(`no such mapping file: ${file}`, 2);
  const loaded = loadMapping(file, { checkLocation: false });
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (loaded.spec === undefined || errors.length > 0) throw new UserError(`mapping ${file} has errors:\n${errors.map(formatDiagnostic).join('\n')}`, 1);
  if (loaded.spec.partner !== partnerId) throw new UserError(`mapping ${file} is for partner "${loaded.spec.partner}", not "${partnerId}": give its partner, or fix its partner: line`, 2);
  return { name: `${loaded.spec.partner}/${loaded.spec.feed}`, path: file, hash: loaded.hash, spec: loaded.spec, compiled: compileMapping(loaded.spec, loaded.hash) };
}
