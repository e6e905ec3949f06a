// Binding plans to a file: CSV header aliases → column indexes (once per file), XML paths and
// special sources for XML/document mappings. Collects what a CSV header lacks so the caller can
// reject the file with one E_MISSING_COLUMN naming everything missing.

import { normalizeHeader } from './headers.js';
import { C_PRESENT, S_COLUMN, S_NONE, S_XML, specialKind, type ConditionPlan, type RecordPlan } from './plan.js';
import type { BoundCondition, BoundEach, BoundField, BoundRecord, BoundSource } from './row-engine.js';
import type { MappingFormat } from './spec.js';

export interface Missing {
  what: string;
  aliases: string[];
  field?: string;
}

export function headerIndex(header: string[]): Map<string, number> {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const k = normalizeHeader(h);
    if (!index.has(k)) index.set(k, i);
  });
  return index;
}

export function bindCsvSource(aliases: string[], index: Map<string, number>): BoundSource {
  for (const a of aliases) {
    const special = specialKind(a);
    if (special !== S_NONE) return { kind: special, col: -1, aliases: [] };
    const col = index.get(normalizeHeader(a));
    if (col !== undefined) return { kind: S_COLUMN, col, aliases: [] };
  }
  return { kind: S_NONE, col: -1, aliases: [] };
}

export function bindTreeSource(aliases: string[], format: MappingFormat): BoundSource {
  if (format === 'xml') return { kind: aliases.length > 0 ? S_XML : S_NONE, col: -1, aliases };
  for (const a of aliases) {
    const special = specialKind(a);
    if (special !== S_NONE) return { kind: special, col: -1, aliases: [] };
  }
  return { kind: S_NONE, col: -1, aliases: [] };
}

export function bindRecords(plans: RecordPlan[], bindSource: (aliases: string[]) => BoundSource, missing: Missing[] | null, headerText: (col: number, alias: string) => string): BoundRecord[] {
  return plans.map((plan) => {
    const fields = plan.fields.map((f): BoundField => {
      const src = f.hasConst ? { kind: S_NONE, col: -1, aliases: [] } : bindSource(f.aliases);
      // A column the mapping names must be in the header unless the field says it may be absent
      // (a typo must not silently empty a field on every row).
      if (missing !== null && src.kind === S_NONE && !f.hasConst && !f.optional && f.aliases.length > 0) {
        const setEverywhere = plan.each !== null && plan.each.every((e) => e.setNames.has(f.name));
        if (!setEverywhere) missing.push({ what: `${f.required ? 'required ' : ''}field '${f.name}'`, aliases: f.aliases, field: f.name });
      }
      return { ...src, plan: f };
    });
    const bindCond = (c: ConditionPlan): BoundCondition => {
      const src = bindSource([c.source]);
      if (missing !== null && src.kind === S_NONE && c.test !== C_PRESENT) missing.push({ what: `the condition on '${c.source}'`, aliases: [c.source] });
      return { ...src, plan: c };
    };
    let each: BoundEach[] | null = null;
    if (plan.each !== null) {
      each = [];
      for (const e of plan.each) {
        const src = bindSource(e.aliases);
        if (src.kind !== S_NONE) each.push({ ...src, plan: e, header: src.kind === S_COLUMN ? headerText(src.col, e.aliases[0]) : e.aliases[0] });
        else if (missing !== null && !e.optional) missing.push({ what: `${plan.kind} 'each' column`, aliases: e.aliases });
      }
      if (missing !== null && each.length === 0 && plan.each.every((e) => e.optional)) {
        missing.push({ what: `${plan.kind} 'each' (all its columns are optional, but at least one must be there)`, aliases: plan.each.flatMap((e) => e.aliases) });
      }
    }
    const postWhen = plan.postWhen.map((c): BoundCondition => ({ kind: S_NONE, col: -1, aliases: [], plan: c }));
    return { plan, fields, rowWhen: plan.rowWhen.map(bindCond), eachWhen: plan.eachWhen.map(bindCond), postWhen, each };
  });
}
