// Scenario 2 — memory. The scenario-1 ingest at 1M and at 4M rows: a streaming ingest keeps
// its peak RSS under the budget and flat as the file grows. Quick mode measures 100k rows only.

import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { side } from '../lib/context.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { checkApplied, freshDataDir, ingestFixture, lotgateIngest, limsFile, removeDir } from './ingest-fixture.js';
import { ingestRows } from './bulk-ingest.js';

export const RSS_BUDGET_MB = 300;
/** "The same at both sizes": the 4× larger file may cost at most this much more peak memory. */
export const FLAT_TOLERANCE = 1.15;

export async function memory(ctx: BenchContext): Promise<ScenarioResult> {
  const fx = await ingestFixture(ctx);
  const small = ingestRows(ctx);
  const sizes = ctx.quick ? [small] : [small, small * 4];
  const measured: { rows: number; bytes: number; seconds: number; peakRssMb: number | null; source: string }[] = [];

  for (const rows of sizes) {
    const { file, bytes } = await limsFile(ctx, fx, rows);
    const reuse = rows === small ? (ctx.shared.get('bulk-ingest-peaks') as (number | null)[] | undefined) : undefined;
    if (reuse?.length) {
      const peak = Math.max(...reuse.filter((x): x is number => x !== null));
      measured.push({ rows, bytes, seconds: NaN, peakRssMb: Number.isFinite(peak) ? peak : null, source: `highest of scenario 1's ${reuse.length} runs` });
      continue;
    }
    const dataDir = freshDataDir(fx, 'run-data');
    const r = await lotgateIngest(fx.ws, dataDir, 'bravo-lab', [file], nodeFlags(ctx, 'scenario-2'));
    checkApplied(`lotgate ingest of ${rows} rows`, r, rows);
    removeDir(dataDir);
    ctx.log(`  ${rows.toLocaleString('en-US')} rows: ${r.seconds.toFixed(2)} s, peak RSS ${r.peakRssMb?.toFixed(0)} MB`);
    measured.push({ rows, bytes, seconds: r.seconds, peakRssMb: r.peakRssMb, source: 'one run' });
  }

  const profiles = reportProfiles(ctx, 'scenario-2');
  const peaks = measured.map((m) => m.peakRssMb);
  const worst = Math.max(...peaks.map((p) => p ?? Infinity));
  const underBudget = worst <= RSS_BUDGET_MB;
  const flat = measured.length === 2 && peaks[0] !== null && peaks[1] !== null ? peaks[1] / peaks[0] <= FLAT_TOLERANCE : null;
  const met = flat === null ? (ctx.quick ? null : false) : underBudget && flat;
  const fmt = (m: (typeof measured)[number]) => `${m.peakRssMb?.toFixed(0) ?? '?'} MB at ${(m.rows / 1e6).toLocaleString('en-US')}M rows`;
  const big = measured[1];
  return {
    id: 2,
    name: 'memory',
    workload: measured.map((m) => `${m.rows.toLocaleString('en-US')} rows (${(m.bytes / 1e6).toFixed(0)} MB)`).join(' and '),
    lotgate: big && Number.isFinite(big.seconds)
      ? side([big.seconds], [worst], (s) => ({ value: big.rows / s, unit: 'rows/s' }))
      : { medianSeconds: NaN, runsSeconds: [], peakRssMb: worst },
    reference: null,
    ratio: null,
    target: `peak RSS ≤ ${RSS_BUDGET_MB} MB and flat (4M ≤ ${FLAT_TOLERANCE}× 1M)`,
    met: ctx.quick ? (underBudget ? null : false) : met,
    outcome: measured.map(fmt).join(', ') + (flat === null ? ' (4M not run in quick mode)' : flat ? ', flat' : ', GROWS with the file'),
    notes: ctx.quick ? ['quick mode: only the small size is measured, so "flat" is not evaluated'] : [],
    details: { sizes: measured, budgetMb: RSS_BUDGET_MB, flatTolerance: FLAT_TOLERANCE, profiles },
  };
}
