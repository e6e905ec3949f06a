// A Bravo LIMS CSV row (gen/lims.ts) as the facts area's bulk input, for scenario 9: the
// conversions mappings/bravo-lab/lims-results.yaml declares, done by hand with lotgate's own value
// parsers (result text, decimals, `M/d/yy h:mm a` in America/New_York), and the lot looked up by
// its lot number in a Map. Not lotgate's mapping engine nor its resolver: a stand-in that does the
// same conversions, so the store's bulk path can be timed on PostgreSQL, where `lotgate ingest`
// does not run yet.

import { createDateParser } from '../../pipeline/mapping/date-format.js';
import { createResultParser } from '../../pipeline/mapping/result-text.js';
import { ConvError, createNumberParser, describeNumberFormat } from '../../pipeline/mapping/values.js';
import type { ResultStatus } from '../../pipeline/model/types.js';
import type { TestResultRowInput } from '../../pipeline/store/areas/facts.js';
import type { Prov } from '../../pipeline/store/types.js';

/** The value maps of the mapping: Bravo's test codes in Northwind's specification, statuses. */
const TEST_CODES: Record<string, string> = { 'ASSAY-HPLC': 'ASSAY', 'DISS-Q30': 'DISSO', 'KF-H2O': 'WATER', 'IMP-TOT': 'IMP_TOTAL' };
const STATUSES: Record<string, ResultStatus> = { Final: 'final', Prelim: 'preliminary', Retracted: 'retracted' };
const COLUMNS = ['Sample ID', 'Lot Number', 'Test Code', 'Test Name', 'Method', 'Result', 'Units', 'Spec Low', 'Spec High', 'Status', 'Analyst', 'Tested On'] as const;

export type LimsRowConverter = (values: readonly string[], line: number) => TestResultRowInput;

/**
 * A converter for a file with this header. Throws for a header without the LIMS columns, and,
 * per row, for a value the mapping would reject (unknown lot, bad number, date or status): the
 * bench's file has none, so any is a bug to fail on.
 */
export function limsRowConverter(header: readonly string[], lots: ReadonlyMap<string, number>, prov: Omit<Prov, 'line'>): LimsRowConverter {
  const at = Object.fromEntries(
    COLUMNS.map((c) => {
      const i = header.indexOf(c);
      if (i < 0) throw new Error(`LIMS CSV: no column "${c}" in the header`);
      return [c, i];
    }),
  ) as Record<(typeof COLUMNS)[number], number>;
  const num = createNumberParser('.', '');
  const result = createResultParser(num, describeNumberFormat('.', ''));
  const testedOn = createDateParser({ kind: 'datetime', formats: ['M/d/yy h:mm a'], tz: 'America/New_York' });
  // `missing: ["", "N/A"]`, and the mapping trims values.
  const text = (v: string | undefined): string | null => {
    const t = (v ?? '').trim();
    return t === '' || t === 'N/A' ? null : t;
  };
  const decimal = (v: string | undefined, line: number, what: string): number | null => {
    const t = text(v);
    if (t === null) return null;
    const n = num(t);
    if (Number.isNaN(n)) throw new Error(`line ${line}: ${what} "${t}" is not a number`);
    return n;
  };
  return (values, line) => {
    const lotNumber = text(values[at['Lot Number']]);
    const lotId = lotNumber === null ? undefined : lots.get(lotNumber);
    if (lotId === undefined) throw new Error(`line ${line}: unknown lot "${lotNumber}"`);
    const code = text(values[at['Test Code']]);
    if (code === null) throw new Error(`line ${line}: no test code`);
    const raw = text(values[at.Result]);
    if (raw === null) throw new Error(`line ${line}: no result`);
    const r = result(raw);
    if (r instanceof ConvError) throw new Error(`line ${line}: ${r.message}`);
    const statusText = text(values[at.Status]);
    const status = statusText === null ? undefined : STATUSES[statusText];
    if (status === undefined) throw new Error(`line ${line}: unknown status "${statusText}"`);
    const tested = text(values[at['Tested On']]);
    const testedAt = tested === null ? null : testedOn.parse(tested);
    if (testedAt instanceof ConvError) throw new Error(`line ${line}: ${testedAt.message}`);
    return {
      lotId,
      result: {
        sampleId: text(values[at['Sample ID']]),
        testCode: TEST_CODES[code] ?? code,
        testName: text(values[at['Test Name']]),
        method: text(values[at.Method]),
        resultRaw: r.resultRaw,
        resultValue: r.resultValue ?? null,
        qualifier: r.qualifier ?? null,
        unit: text(values[at.Units]),
        specLow: decimal(values[at['Spec Low']], line, 'Spec Low'),
        specHigh: decimal(values[at['Spec High']], line, 'Spec High'),
        resultStatus: status,
        analyst: text(values[at.Analyst]),
        testedAt,
      },
      prov: { ...prov, line },
    };
  };
}
