// Wording shared by the rules' messages, so QA reads the same phrasing everywhere.
import type { LotFacts, TestResultRow } from '../model/types.js';

export function lotLabel(facts: LotFacts): string {
  return `lot ${facts.lot.lotNumber} (material ${facts.lot.materialId})`;
}

export function formatNumber(n: number): string {
  return String(n);
}

export function formatLimits(low: number | null | undefined, high: number | null | undefined, unit?: string | null): string {
  const u = unit ? ` ${unit}` : '';
  const hasLow = typeof low === 'number' && Number.isFinite(low);
  const hasHigh = typeof high === 'number' && Number.isFinite(high);
  if (hasLow && hasHigh) return `${formatNumber(low)}–${formatNumber(high)}${u}`;
  if (hasLow) return `≥ ${formatNumber(low)}${u}`;
  if (hasHigh) return `≤ ${formatNumber(high)}${u}`;
  return 'no numeric limits';
}

/** The result as the lab sent it when we have that, else rebuilt from its parts. */
export function formatResult(r: TestResultRow): string {
  const raw = r.resultRaw?.trim();
  let text: string;
  if (raw) text = raw;
  else if (r.qualifier === 'ND' || r.qualifier === '<LOQ') text = r.resultValue != null ? `${r.qualifier} (${r.resultValue})` : r.qualifier;
  else if (r.resultValue != null) text = `${r.qualifier ?? ''}${formatNumber(r.resultValue)}`;
  else text = '(no value)';
  return r.unit && !text.endsWith(r.unit) ? `${text} ${r.unit}` : text;
}

export function resultRef(r: TestResultRow): string {
  return r.sampleId ? `${r.sampleId}/${r.testCode}` : r.testCode;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** lotLabel for the start of a sentence. */
export function lotTitle(facts: LotFacts): string {
  return `Lot ${facts.lot.lotNumber} (material ${facts.lot.materialId})`;
}
