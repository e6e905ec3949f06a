// The one place readiness reasons become English. Rules return a reason's code, its parameters
// (the values its sentence names) and its evidence; this renders the sentence. lot_readiness and
// the outbox store the compact form (code, severity, params, evidence) and every reader — the
// lot view, API, board, CLI, exports, the push job — renders through here, so what a reader sees
// is what the rule would have written.

import type { ReasonCode } from '../codes.js';
import type { DocumentType, LotFacts, Readiness, ReadinessReason } from '../model/types.js';
import { plural } from './describe.js';
import { DOCUMENT_NAMES } from './documents.js';

/** The values a reason's sentence names (JSON: strings, numbers, booleans, null, arrays of them). */
export type ReasonParams = Record<string, unknown>;

/** The lot a sentence is about. */
export interface LotName {
  lotNumber: string;
  materialId: string;
}

const str = (p: ReasonParams, k: string): string => String(p[k] ?? '');
const opt = (p: ReasonParams, k: string): string | null => (p[k] === null || p[k] === undefined || p[k] === '' ? null : String(p[k]));
const num = (p: ReasonParams, k: string): number => Number(p[k]);
const list = (p: ReasonParams, k: string): unknown[] => (Array.isArray(p[k]) ? (p[k] as unknown[]) : []);

const label = (lot: LotName): string => `lot ${lot.lotNumber} (material ${lot.materialId})`;
const title = (lot: LotName): string => `Lot ${lot.lotNumber} (material ${lot.materialId})`;

/** "on sample S-1 (tested …)" from a sample id and a tested-at (either may be null). */
export function testedText(sample: unknown, testedAt: unknown): string {
  const when = testedAt ? ` (tested ${String(testedAt)})` : '';
  return sample ? `on sample ${String(sample)}${when}` : `without a sample id${when}`;
}

/** How a result's limits are named: the kind of limits and their text (formatLimits or the spec text). */
export type LimitsKind = 'text' | 'conforming' | 'product' | 'lab' | 'spec';

export function limitsText(kind: unknown, text: unknown): string {
  switch (kind) {
    case 'text':
      return `the specification '${String(text)}'`;
    case 'conforming':
      return 'a conforming result';
    case 'product':
      return `the product specification ${String(text)}`;
    case 'lab':
      return `the lab's limits ${String(text)}`;
    default:
      return `the specification ${String(text)}`;
  }
}

const DEVIATION_CLEARS: Record<string, string> = {
  R_DEVIATION_OPEN_CRITICAL: 'Release is blocked until QA closes the deviation',
  R_DEVIATION_OPEN_MAJOR: 'Release is blocked until QA closes the deviation (or reclassifies it as minor)',
  R_DEVIATION_OPEN_MINOR: 'The lot may be released with QA sign-off on the open deviation; closing it clears this',
};

function deviation(code: string, p: ReasonParams, lot: LotName): string {
  const cls = str(p, 'classification');
  const qms = opt(p, 'qmsRef');
  const t = opt(p, 'title');
  const name = `${str(p, 'ref')}${qms ? ` (QMS ${qms})` : ''}${t ? ` "${t}"` : ''}`;
  const state = p.status === 'investigation' ? 'under investigation' : 'open';
  return `${cls.charAt(0).toUpperCase()}${cls.slice(1)} deviation ${name} from ${str(p, 'issuer')} is ${state} (opened ${str(p, 'openedAt')}) against ${label(lot)}. ${DEVIATION_CLEARS[code]}.`;
}

function unitOf(p: ReasonParams, k: string): string {
  const u = opt(p, k);
  return u ? ` ${u}` : '';
}

const RENDER: Record<ReasonCode, (p: ReasonParams, lot: LotName, code: string) => string> = {
  R_ID_CONFLICT: (p, lot) => {
    const others = list(p, 'others').map(String);
    return (
      `Identifier ${str(p, 'scheme')} '${str(p, 'value')}' from ${str(p, 'issuer')} is recorded for ${label(lot)} and also for ` +
      `${others.length ? `lot ${others.join(', lot ')}` : 'another lot'}, so records sent under it cannot be attributed safely. ` +
      `Correct the cross-reference (partner mapping or ERP lot master) so it names one lot.`
    );
  },
  R_STAGE_ON_HOLD: (p, lot) =>
    `Stage ${str(p, 'stage')} of ${label(lot)} is on hold since ${str(p, 'at')}. The lot stays blocked until the partner reports the stage resumed and completed.`,
  R_STAGE_ABORTED: (p, lot) =>
    `Stage ${str(p, 'stage')} of ${label(lot)} was aborted at ${str(p, 'at')}. The lot cannot be released unless the partner reports the stage repeated and completed.`,
  R_STAGE_INCOMPLETE: (p, lot) => {
    const stages = list(p, 'stages').map((s) => {
      const [stage, started] = Array.isArray(s) ? s : [s, false];
      return `${String(stage)} (${started ? 'started, not completed' : 'not reported'})`;
    });
    return `${title(lot)} has required stages not completed: ${stages.join(', ')}. A completion event from the manufacturer for each clears this.`;
  },
  R_COA_MISSING: (_p, lot) =>
    `No Certificate of Analysis received for ${label(lot)}. The lab or manufacturer needs to send the CoA for this lot.`,
  R_DOC_MISSING: (p, lot) => {
    const type = str(p, 'type');
    const name = (DOCUMENT_NAMES as Record<string, string | undefined>)[type as DocumentType] ?? type;
    return `No ${name} (${type}) received for ${label(lot)}; this product requires one before release. The manufacturer needs to send it.`;
  },
  R_LABEL_APPROVAL_MISSING: (_p, lot) =>
    `No label approval received for ${label(lot)}; this product requires an approved label before release. Send the label_approval document for this lot.`,
  R_TEST_MISSING: (p, lot) => {
    const spec = opt(p, 'spec');
    const n = num(p, 'retracted') || 0;
    const why = n > 0 ? `; ${plural(n, 'retracted result')} ${n === 1 ? 'does' : 'do'} not count` : '';
    return `No final result for test ${str(p, 'test')}${spec ? ` (spec ${spec})` : ''} on ${label(lot)}${why}. The lab needs to send a final result for this test.`;
  },
  R_TEST_PRELIMINARY: (p, lot) => {
    const spec = opt(p, 'spec');
    const results = list(p, 'results').map(String);
    return (
      `Test ${str(p, 'test')}${spec ? ` (spec ${spec})` : ''} for ${label(lot)} has only ${plural(results.length, 'preliminary result')} ` +
      `(${results.join(', ')}). Preliminary results do not count; the lab needs to send the final result.`
    );
  },
  R_TEST_OOS: (p, lot) => {
    const lab = p.labLimits !== undefined && p.labLimits !== null ? ` (it is within the lab's own limits ${str(p, 'labLimits')})` : '';
    const scope = p.planned === false ? ` This test is not in the product's test plan, but an out-of-specification result still stands.` : '';
    return (
      `${str(p, 'test')} result ${str(p, 'result')} ${testedText(p.sample, p.testedAt)} for ${label(lot)} is outside ${limitsText(p.lk, p.lim)}${lab}.${scope} ` +
      `Release is blocked until the OOS is investigated; the lab retracting this result and sending a passing final retest clears it.`
    );
  },
  R_TEST_OOS_NOT_RETRACTED: (p, lot) => {
    const failed = list(p, 'failed').map((f) => (Array.isArray(f) ? f : [f, null, null]));
    const one = failed.length === 1;
    const items = failed.map(([result, sample, testedAt]) => `${String(result)} ${testedText(sample, testedAt)}`).join('; ');
    return (
      `${str(p, 'test')} for ${label(lot)} passes on the latest final result ${str(p, 'result')} ${testedText(p.sample, p.testedAt)}, ` +
      `but earlier final ${one ? 'result' : 'results'} ${items} ${one ? 'was' : 'were'} out of specification and not retracted. ` +
      `QA should confirm the OOS investigation invalidated ${one ? 'it' : 'them'}; the lab retracting ${one ? 'it' : 'them'} clears this.`
    );
  },
  R_TEST_UNIT_MISMATCH: (p, lot) =>
    `${str(p, 'test')} result ${str(p, 'result')} ${testedText(p.sample, p.testedAt)} for ${label(lot)} is in ${str(p, 'unit')}, but the specification ` +
    `${str(p, 'spec')} is in ${str(p, 'specUnit')}, so it cannot be judged. The lab should report in ${str(p, 'specUnit')} or state its limits with the result.`,
  R_TEST_UNEVALUABLE: (p, lot) =>
    `${str(p, 'test')} result ${str(p, 'result')} ${testedText(p.sample, p.testedAt)} for ${label(lot)} cannot be judged: ` +
    `${str(p, 'result') === '(no value)' ? 'the result has no value' : 'neither the result nor the product specification gives limits'}. ` +
    `The lab should resend the result with its value and limits, or QA should add limits for ${str(p, 'test')} to the rule set.`,
  R_DEVIATION_OPEN_CRITICAL: (p, lot, code) => deviation(code, p, lot),
  R_DEVIATION_OPEN_MAJOR: (p, lot, code) => deviation(code, p, lot),
  R_DEVIATION_OPEN_MINOR: (p, lot, code) => deviation(code, p, lot),
  R_DISPOSITION_REJECTED: (p, lot) =>
    `${title(lot)} was rejected by QA on ${str(p, 'decidedAt')}${opt(p, 'decidedBy') ? ` (${str(p, 'decidedBy')})` : ''}. It cannot be released unless QA reverses the decision in the QMS.`,
  R_DISPOSITION_REQUARANTINED: (p, lot) =>
    `${title(lot)} was released on ${str(p, 'releasedAt')} and put back into quarantine on ${str(p, 'decidedAt')}` +
    `${opt(p, 'decidedBy') ? ` by ${str(p, 'decidedBy')}` : ''}. It is not available until QA releases it again.`,
  R_EXPIRY_UNKNOWN: (p, lot) => {
    const raw = opt(p, 'raw');
    return (
      `${raw ? `The expiry date '${raw}' of ${label(lot)} is not a valid date` : `No expiry date is known for ${label(lot)}`}, ` +
      `so remaining shelf life (minimum ${plural(num(p, 'minDays'), 'day')}) cannot be checked. The manufacturer or ERP needs to send the expiry date.`
    );
  },
  R_EXPIRED: (p, lot) => `${title(lot)} expired on ${str(p, 'expiry')} and cannot be released.`,
  R_SHELF_LIFE: (p, lot) =>
    `${title(lot)} expires on ${str(p, 'expiry')}: ${plural(num(p, 'left'), 'day')} of shelf life left, ` +
    `below the minimum of ${plural(num(p, 'minDays'), 'day')} (expiry on or after ${str(p, 'needed')} needed). ` +
    `Only a corrected expiry date or a QA exception for this lot clears this.`,
  R_QTY_UOM_MISMATCH: (p, lot) =>
    `${title(lot)} is reported as ${str(p, 'quantity')} ${str(p, 'uom')} but PO line ${str(p, 'po')} orders ${str(p, 'poQuantity')} ${str(p, 'poUom')}; ` +
    `the quantities cannot be compared. Receiving should confirm the quantity, or the partner should report in ${str(p, 'poUom')}.`,
  R_QTY_OUT_OF_TOLERANCE: (p, lot) =>
    `${title(lot)} quantity ${str(p, 'quantity')}${unitOf(p, 'uom')} is ${p.over ? 'over' : 'under'} PO line ${str(p, 'po')} ` +
    `(${str(p, 'poQuantity')}${unitOf(p, 'uom')}) by ${str(p, 'pct')} %, beyond the ${str(p, 'tolerance')} % tolerance. Purchasing should accept the difference, or the partner should correct the quantity.`,
};

/** The English sentence of a reason. A code without a renderer (a newer lotgate's) names itself. */
export function renderMessage(code: string, params: ReasonParams | undefined, lot: LotName): string {
  const f = (RENDER as Record<string, ((p: ReasonParams, lot: LotName, code: string) => string) | undefined>)[code];
  return f ? f(params ?? {}, lot, code) : `${code} for ${label(lot)}.`;
}

/** A rule's reason: its sentence rendered from the parameters, which travel with it. */
export function reason(
  facts: Pick<LotFacts, 'lot'>,
  code: ReasonCode,
  severity: ReadinessReason['severity'],
  params: ReasonParams,
  evidence: ReadinessReason['evidence'],
): ReadinessReason {
  return { code, severity, message: renderMessage(code, params, facts.lot), params, evidence };
}

// ---------------------------------------------------------------------------
// The stored (compact) form and back.

type Severity = ReadinessReason['severity'];
type Evidence = ReadinessReason['evidence'];

/** Each code's severity as the rules give it: stored only when a reason's differs. */
const SEVERITY: Record<ReasonCode, Severity> = {
  R_ID_CONFLICT: 'BLOCKED',
  R_STAGE_ON_HOLD: 'BLOCKED',
  R_STAGE_ABORTED: 'BLOCKED',
  R_STAGE_INCOMPLETE: 'NOT_READY',
  R_COA_MISSING: 'NOT_READY',
  R_DOC_MISSING: 'NOT_READY',
  R_LABEL_APPROVAL_MISSING: 'NOT_READY',
  R_TEST_MISSING: 'NOT_READY',
  R_TEST_PRELIMINARY: 'NOT_READY',
  R_TEST_OOS: 'BLOCKED',
  R_TEST_OOS_NOT_RETRACTED: 'CONDITIONAL',
  R_TEST_UNIT_MISMATCH: 'NOT_READY',
  R_TEST_UNEVALUABLE: 'NOT_READY',
  R_DEVIATION_OPEN_CRITICAL: 'BLOCKED',
  R_DEVIATION_OPEN_MAJOR: 'BLOCKED',
  R_DEVIATION_OPEN_MINOR: 'CONDITIONAL',
  R_DISPOSITION_REJECTED: 'BLOCKED',
  R_DISPOSITION_REQUARANTINED: 'NOT_READY',
  R_EXPIRY_UNKNOWN: 'NOT_READY',
  R_EXPIRED: 'BLOCKED',
  R_SHELF_LIFE: 'BLOCKED',
  R_QTY_UOM_MISMATCH: 'CONDITIONAL',
  R_QTY_OUT_OF_TOLERANCE: 'CONDITIONAL',
};

/**
 * The evidence a reason's params already say, for the codes whose evidence is only that ("no
 * final result for ASSAY", "stage filling: no event received"): stored only when it differs.
 * null: the evidence names records the params don't (stored as it is).
 */
function impliedEvidence(code: string, p: ReasonParams): Evidence | null {
  switch (code) {
    case 'R_COA_MISSING':
      return [{ kind: 'document', ref: 'coa', detail: 'none received' }];
    case 'R_LABEL_APPROVAL_MISSING':
      return [{ kind: 'document', ref: 'label_approval', detail: 'none received' }];
    case 'R_DOC_MISSING':
      return [{ kind: 'document', ref: str(p, 'type'), detail: 'none received' }];
    case 'R_TEST_MISSING':
      return p.retracted ? null : [{ kind: 'test', ref: str(p, 'test'), detail: 'no final result' }];
    case 'R_STAGE_INCOMPLETE': {
      const stages = list(p, 'stages');
      if (!stages.every((s) => Array.isArray(s) && !s[1])) return null;
      return stages.map((s) => ({ kind: 'stage', ref: String((s as unknown[])[0]), detail: 'no event received' }));
    }
    default:
      return null;
  }
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * A stored reason. Compact (no message): code, and only what the code does not imply — params
 * when there are any, severity when not the code's, evidence when not implied by the params.
 * Rows written before migration 16 carry the rendered message (that is the per-reason format flag).
 */
interface StoredReason {
  code: ReasonCode;
  severity?: Severity;
  message?: string;
  params?: ReasonParams;
  evidence?: Evidence;
}

/** The readiness as stored: no sentences (see StoredReason). */
export function compactReadiness(r: Readiness): Record<string, unknown> {
  const out: Record<string, unknown> = {
    state: r.state,
    reasons: r.reasons.map((x) => compactReason(x, x.evidence)),
    late: r.late,
  };
  if (r.lateStages !== undefined) out.lateStages = r.lateStages;
  return out;
}

/** `evidence` as it is to be stored (wire form in the outbox), compared with the implied one in the same form. */
function compactReason<E>(x: ReadinessReason, evidence: E, implied = (ev: Evidence): unknown => ev): { code: ReasonCode; severity?: Severity; message?: string; params?: ReasonParams; evidence?: E } {
  // A reason without params (built by hand, not by a rule) keeps its sentence.
  if (x.params === undefined) return { code: x.code, severity: x.severity, message: x.message, evidence };
  const out: { code: ReasonCode; severity?: Severity; params?: ReasonParams; evidence?: E } = { code: x.code };
  if (SEVERITY[x.code] !== x.severity) out.severity = x.severity;
  if (Object.keys(x.params).length > 0) out.params = x.params;
  const ev = impliedEvidence(x.code, x.params);
  if (!ev || !sameJson(implied(ev), evidence)) out.evidence = evidence;
  return out;
}

function severityOf(x: { code: string; severity?: Severity }): Severity {
  return x.severity ?? (SEVERITY as Record<string, Severity | undefined>)[x.code] ?? 'NOT_READY';
}

/** A stored reason as readers see it: the sentence rendered (or kept, from an older row), no params. */
export function expandReason(x: StoredReason, lot: LotName): ReadinessReason {
  if (typeof x.message === 'string') return { code: x.code, severity: severityOf(x), message: x.message, evidence: x.evidence ?? [] };
  const params = x.params ?? {};
  return { code: x.code, severity: severityOf(x), message: renderMessage(x.code, params, lot), evidence: x.evidence ?? impliedEvidence(x.code, params) ?? [] };
}

/** A stored readiness document (compact or older rendered) as readers see it. */
export function expandReadiness<T extends { reasons?: unknown }>(stored: T, lot: LotName): T & { reasons: ReadinessReason[] } {
  const reasons = Array.isArray(stored.reasons) ? (stored.reasons as StoredReason[]).map((x) => expandReason(x, lot)) : [];
  return { ...stored, reasons };
}

/** Evidence as the outbox payload carries it on the wire (detail null when absent). */
type WireEvidence = { kind: string; ref: string; detail: string | null }[];
const wireEvidence = (ev: Evidence): WireEvidence => ev.map((e) => ({ kind: e.kind, ref: e.ref, detail: e.detail ?? null }));

interface WireReason {
  code: ReasonCode;
  severity?: Severity;
  message?: string;
  params?: ReasonParams;
  evidence?: WireEvidence;
}

/**
 * An outbound payload with a `readiness` section, as stored: its reasons compact like
 * lot_readiness's (the message id was computed on the rendered payload, which expandPayload gives
 * back byte for byte). `readiness` is the in-memory readiness the payload was built from.
 */
export function compactPayload(payload: Record<string, unknown>, readiness: Readiness): Record<string, unknown> {
  const section = payload.readiness as { reasons?: WireReason[] } | undefined;
  if (!section || !Array.isArray(section.reasons) || section.reasons.length !== readiness.reasons.length) return payload;
  const reasons = section.reasons.map((w, i) => {
    const x = readiness.reasons[i];
    if (x.params === undefined || w.code !== x.code || w.severity !== x.severity || w.message !== x.message) return w;
    return compactReason(x, w.evidence ?? [], wireEvidence);
  });
  return { ...payload, readiness: { ...section, reasons } };
}

/** A stored outbound payload as it goes on the wire: each compact reason's sentence rendered back. */
export function expandPayload(payload: unknown): unknown {
  if (!payload || typeof payload !== 'object') return payload;
  const p = payload as Record<string, unknown>;
  const section = p.readiness as { reasons?: WireReason[] } | undefined;
  const lot = p.lot as Partial<LotName> | undefined;
  if (!section || !Array.isArray(section.reasons) || !lot || !section.reasons.some((w) => w && typeof w.message !== 'string')) return payload;
  const name: LotName = { lotNumber: String(lot.lotNumber ?? ''), materialId: String(lot.materialId ?? '') };
  const reasons = section.reasons.map((w) => {
    if (typeof w.message === 'string') return w;
    const params = w.params ?? {};
    return {
      code: w.code,
      severity: severityOf(w),
      message: renderMessage(w.code, params, name),
      evidence: w.evidence ?? wireEvidence(impliedEvidence(w.code, params) ?? []),
    };
  });
  return { ...p, readiness: { ...section, reasons } };
}
