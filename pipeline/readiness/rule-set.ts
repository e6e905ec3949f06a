// Which rules apply to a lot: the `readiness:` section of config.yaml, resolved per material.
//
// Precedence: default ← families[productFamily] ← materials[materialId]. A key set at a more
// specific level replaces the inherited value; lists (requiredStages, requiredDocuments, tests)
// replace wholly, so a family that lists tests lists *all* its tests. The one exception is
// stageDueDaysBeforeReceipt, which merges stage by stage: a family adding a stage only needs to
// give that stage's lead time.

import type { DocumentType, RuleSet } from '../model/types.js';

export type RuleSetOverride = Partial<RuleSet>;

export interface ReadinessConfig {
  default: RuleSet;
  /** Keyed by Material.productFamily. */
  families: Record<string, RuleSetOverride>;
  /** Keyed by materialId, exactly as ERP writes it (zero padding kept). */
  materials: Record<string, RuleSetOverride>;
}

/** The stages of DESIGN.md §3, in order. Rule sets may add their own. */
export const CANONICAL_STAGES: readonly string[] = ['compounding', 'filling', 'packaging', 'testing', 'qa_review', 'released', 'shipped'];

const DOCUMENT_TYPES: readonly DocumentType[] = ['coa', 'batch_record', 'packaging_record', 'test_report', 'label_approval'];

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

/** Same values as config.yaml's `readiness.default`; used when config.yaml leaves a key out. Frozen: copy before changing. */
export const DEFAULT_READINESS_CONFIG: ReadinessConfig = deepFreeze<ReadinessConfig>({
  default: {
    requiredStages: ['compounding', 'filling', 'packaging', 'testing', 'qa_review'],
    requiredDocuments: ['coa'],
    tests: [],
    labelApprovalRequired: false,
    minShelfLifeDays: 180,
    quantityTolerancePct: 10,
    stageDueDaysBeforeReceipt: { compounding: 28, filling: 21, packaging: 14, testing: 7, qa_review: 3 },
  },
  families: {},
  materials: {},
});

function own<T>(map: Record<string, T> | null | undefined, key: string | null | undefined): T | undefined {
  // Own properties only: a material id like "constructor" must not pick up Object.prototype.
  if (!map || key == null || !Object.prototype.hasOwnProperty.call(map, key)) return undefined;
  return map[key];
}

function copyRuleSet(r: RuleSet): RuleSet {
  return {
    requiredStages: [...r.requiredStages],
    requiredDocuments: [...r.requiredDocuments],
    tests: r.tests.map((t) => ({ ...t })),
    labelApprovalRequired: r.labelApprovalRequired,
    minShelfLifeDays: r.minShelfLifeDays,
    quantityTolerancePct: r.quantityTolerancePct,
    stageDueDaysBeforeReceipt: { ...r.stageDueDaysBeforeReceipt },
  };
}

function applyOverride(base: RuleSet, o: RuleSetOverride | null | undefined): RuleSet {
  if (!o) return base;
  const out: RuleSet = { ...base };
  if (o.requiredStages !== undefined) out.requiredStages = [...o.requiredStages];
  if (o.requiredDocuments !== undefined) out.requiredDocuments = [...o.requiredDocuments];
  if (o.tests !== undefined) out.tests = o.tests.map((t) => ({ ...t }));
  if (o.labelApprovalRequired !== undefined) out.labelApprovalRequired = o.labelApprovalRequired;
  if (o.minShelfLifeDays !== undefined) out.minShelfLifeDays = o.minShelfLifeDays;
  if (o.quantityTolerancePct !== undefined) out.quantityTolerancePct = o.quantityTolerancePct;
  if (o.stageDueDaysBeforeReceipt !== undefined) {
    out.stageDueDaysBeforeReceipt = { ...base.stageDueDaysBeforeReceipt, ...o.stageDueDaysBeforeReceipt };
  }
  return out;
}

/** The rule set for one material; a fresh object the caller may keep or change. */
export function resolveRuleSet(
  cfg: ReadinessConfig,
  material: { materialId: string; productFamily?: string | null } | null | undefined,
): RuleSet {
  let rules = copyRuleSet(cfg.default);
  if (!material) return rules;
  rules = applyOverride(rules, own(cfg.families, material.productFamily ?? undefined));
  rules = applyOverride(rules, own(cfg.materials, material.materialId));
  return rules;
}

// ---------------------------------------------------------------------------
// Validation: every problem, with the path of the offending key, so an analyst can fix
// config.yaml in one pass.

const RULE_SET_KEYS = [
  'requiredStages',
  'requiredDocuments',
  'tests',
  'labelApprovalRequired',
  'minShelfLifeDays',
  'quantityTolerancePct',
  'stageDueDaysBeforeReceipt',
] as const;
const TEST_KEYS = ['code', 'specLow', 'specHigh', 'unit'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keyPath(base: string, key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base ? `${base}.${key}` : key;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function collectStages(raw: Record<string, unknown>): Set<string> {
  const stages = new Set(CANONICAL_STAGES);
  const addFrom = (section: unknown): void => {
    if (isObject(section) && Array.isArray(section.requiredStages)) {
      for (const s of section.requiredStages) if (typeof s === 'string' && s.trim()) stages.add(s.trim());
    }
  };
  addFrom(raw.default);
  for (const group of [raw.families, raw.materials]) {
    if (isObject(group)) for (const section of Object.values(group)) addFrom(section);
  }
  return stages;
}

function validateRuleSet(section: unknown, path: string, knownStages: Set<string>, problems: string[]): void {
  if (section === null || section === undefined) return; // `oral-solid:` with nothing under it: inherits everything
  if (!isObject(section)) {
    problems.push(`${path}: expected a mapping of rule settings, got ${typeName(section)}`);
    return;
  }
  for (const key of Object.keys(section)) {
    if (!(RULE_SET_KEYS as readonly string[]).includes(key)) {
      problems.push(`${keyPath(path, key)}: unknown setting${didYouMean(key, RULE_SET_KEYS)}; allowed: ${RULE_SET_KEYS.join(', ')}`);
    }
  }

  const stages = section.requiredStages;
  if (stages !== undefined) {
    if (!Array.isArray(stages)) problems.push(`${path}.requiredStages: expected a list of stage names, got ${typeName(stages)}`);
    else {
      const seen = new Set<string>();
      stages.forEach((s, i) => {
        if (typeof s !== 'string' || !s.trim()) problems.push(`${path}.requiredStages[${i}]: expected a stage name, got ${typeName(s)}`);
        else if (seen.has(s.trim())) problems.push(`${path}.requiredStages[${i}]: stage '${s}' is listed twice`);
        else seen.add(s.trim());
      });
    }
  }

  const docs = section.requiredDocuments;
  if (docs !== undefined) {
    if (!Array.isArray(docs)) problems.push(`${path}.requiredDocuments: expected a list of document types, got ${typeName(docs)}`);
    else {
      const seen = new Set<string>();
      docs.forEach((d, i) => {
        if (typeof d !== 'string' || !(DOCUMENT_TYPES as readonly string[]).includes(d)) {
          const hint = typeof d === 'string' ? didYouMean(d, DOCUMENT_TYPES) : '';
          problems.push(`${path}.requiredDocuments[${i}]: unknown document type ${typeName(d)}${hint}; allowed: ${DOCUMENT_TYPES.join(', ')}`);
        } else if (seen.has(d)) problems.push(`${path}.requiredDocuments[${i}]: '${d}' is listed twice`);
        else seen.add(d);
      });
    }
  }

  const tests = section.tests;
  if (tests !== undefined) {
    if (!Array.isArray(tests)) problems.push(`${path}.tests: expected a list of { code, specLow?, specHigh?, unit? }, got ${typeName(tests)}`);
    else {
      const seen = new Set<string>();
      tests.forEach((t, i) => {
        const tp = `${path}.tests[${i}]`;
        if (!isObject(t)) {
          problems.push(`${tp}: expected { code, specLow?, specHigh?, unit? }, got ${typeName(t)}`);
          return;
        }
        for (const key of Object.keys(t)) {
          if (!TEST_KEYS.includes(key)) problems.push(`${keyPath(tp, key)}: unknown test setting${didYouMean(key, TEST_KEYS)}; allowed: ${TEST_KEYS.join(', ')}`);
        }
        if (typeof t.code !== 'string' || !t.code.trim()) problems.push(`${tp}.code: expected a test code, got ${t.code === undefined ? 'nothing' : typeName(t.code)}`);
        else if (seen.has(t.code.trim().toUpperCase())) problems.push(`${tp}.code: test '${t.code}' is listed twice`);
        else seen.add(t.code.trim().toUpperCase());
        for (const lim of ['specLow', 'specHigh'] as const) {
          const v = t[lim];
          if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) problems.push(`${tp}.${lim}: expected a number, got ${typeName(v)}`);
        }
        if (typeof t.specLow === 'number' && typeof t.specHigh === 'number' && t.specLow > t.specHigh) {
          problems.push(`${tp}: specLow ${t.specLow} is above specHigh ${t.specHigh}`);
        }
        if (t.unit !== undefined && t.unit !== null && typeof t.unit !== 'string') problems.push(`${tp}.unit: expected text, got ${typeName(t.unit)}`);
      });
    }
  }

  if (section.labelApprovalRequired !== undefined && typeof section.labelApprovalRequired !== 'boolean') {
    problems.push(`${path}.labelApprovalRequired: expected true or false, got ${typeName(section.labelApprovalRequired)}`);
  }
  if (section.minShelfLifeDays !== undefined && !isNonNegInt(section.minShelfLifeDays)) {
    problems.push(`${path}.minShelfLifeDays: expected a whole number of days ≥ 0, got ${typeName(section.minShelfLifeDays)}`);
  }
  const tol = section.quantityTolerancePct;
  if (tol !== undefined && !(typeof tol === 'number' && Number.isFinite(tol) && tol >= 0)) {
    problems.push(`${path}.quantityTolerancePct: expected a percentage ≥ 0, got ${typeName(tol)}`);
  }

  const due = section.stageDueDaysBeforeReceipt;
  if (due !== undefined) {
    if (!isObject(due)) problems.push(`${path}.stageDueDaysBeforeReceipt: expected a mapping of stage: days, got ${typeName(due)}`);
    else {
      for (const [stage, days] of Object.entries(due)) {
        const sp = keyPath(`${path}.stageDueDaysBeforeReceipt`, stage);
        if (!knownStages.has(stage)) {
          problems.push(`${sp}: unknown stage '${stage}'${didYouMean(stage, knownStages)}; known stages: ${[...knownStages].join(', ')}`);
        }
        if (!isNonNegInt(days)) problems.push(`${sp}: expected a whole number of days ≥ 0, got ${typeName(days)}`);
      }
    }
  }
}

/**
 * Problems in a raw `readiness:` section (as parsed from YAML), each starting with the path of
 * the offending key inside that section (`default.tests[1].code: ...`), or inside `basePath`
 * when given. An empty list means `parseReadinessConfig` will accept it.
 */
export function validateReadinessConfig(raw: unknown, basePath = ''): string[] {
  const problems: string[] = [];
  if (raw === undefined || raw === null) return problems; // no section: built-in defaults
  if (!isObject(raw)) return [`${basePath || '(readiness)'}: expected a mapping with default, families, materials; got ${typeName(raw)}`];
  for (const key of Object.keys(raw)) {
    if (!['default', 'families', 'materials'].includes(key)) {
      problems.push(`${keyPath(basePath, key)}: unknown key${didYouMean(key, ['default', 'families', 'materials'])}; allowed: default, families, materials`);
    }
  }
  const knownStages = collectStages(raw);
  validateRuleSet(raw.default, keyPath(basePath, 'default'), knownStages, problems);
  for (const group of ['families', 'materials'] as const) {
    const g = raw[group];
    const gp = keyPath(basePath, group);
    if (g === undefined || g === null) continue;
    if (!isObject(g)) {
      problems.push(`${gp}: expected a mapping of ${group === 'families' ? 'product family' : 'material id'} → rule settings, got ${typeName(g)}`);
      continue;
    }
    for (const [name, section] of Object.entries(g)) validateRuleSet(section, keyPath(gp, name), knownStages, problems);
  }
  return problems;
}

function toOverride(section: unknown): RuleSetOverride {
  if (!isObject(section)) return {};
  const o: RuleSetOverride = {};
  if (Array.isArray(section.requiredStages)) o.requiredStages = section.requiredStages.map((s) => String(s).trim());
  if (Array.isArray(section.requiredDocuments)) o.requiredDocuments = [...(section.requiredDocuments as DocumentType[])];
  if (Array.isArray(section.tests)) {
    o.tests = (section.tests as Record<string, unknown>[]).map((t) => {
      const test: RuleSet['tests'][number] = { code: String(t.code).trim() };
      if (typeof t.specLow === 'number') test.specLow = t.specLow;
      if (typeof t.specHigh === 'number') test.specHigh = t.specHigh;
      if (typeof t.unit === 'string') test.unit = t.unit;
      return test;
    });
  }
  if (typeof section.labelApprovalRequired === 'boolean') o.labelApprovalRequired = section.labelApprovalRequired;
  if (typeof section.minShelfLifeDays === 'number') o.minShelfLifeDays = section.minShelfLifeDays;
  if (typeof section.quantityTolerancePct === 'number') o.quantityTolerancePct = section.quantityTolerancePct;
  if (isObject(section.stageDueDaysBeforeReceipt)) o.stageDueDaysBeforeReceipt = { ...(section.stageDueDaysBeforeReceipt as Record<string, number>) };
  return o;
}

function toOverrides(group: unknown): Record<string, RuleSetOverride> {
  const out: Record<string, RuleSetOverride> = Object.create(null) as Record<string, RuleSetOverride>;
  if (isObject(group)) for (const [name, section] of Object.entries(group)) out[name] = toOverride(section);
  return out;
}

/**
 * A typed ReadinessConfig from the raw `readiness:` section, or the problems that stop it.
 * Keys missing from `default` fall back to DEFAULT_READINESS_CONFIG.
 */
export function parseReadinessConfig(raw: unknown, basePath = ''): { ok: true; config: ReadinessConfig } | { ok: false; problems: string[] } {
  const problems = validateReadinessConfig(raw, basePath);
  if (problems.length > 0) return { ok: false, problems };
  const r = isObject(raw) ? raw : {};
  return {
    ok: true,
    config: {
      default: applyOverride(copyRuleSet(DEFAULT_READINESS_CONFIG.default), toOverride(r.default)),
      families: toOverrides(r.families),
      materials: toOverrides(r.materials),
    },
  };
}
