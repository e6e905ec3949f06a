// Binding plans to a file: CSV header aliases → column indexes (once per file), XML paths and
// special sources for XML/document mappings. Collects what a CSV header lacks so the caller can
// reject the file with one E_MISSING_COLUMN naming everything missing.

import { normalizeHeader } from './headers.js';
import { findBlockValue, normalizeLabel, type PreambleLine } from './blocks.js';
import { C_PRESENT, S_BLOCK, S_COLUMN, S_JOIN_EACH, S_NONE, S_TEMPLATE, S_XML, S_XML_EACH, specialKind, type ConditionPlan, type EachPlan, type FieldPlan, type RecordPlan } from './plan.js';
import type { BoundCondition, BoundEach, BoundField, BoundRecord, BoundSource } from './row-engine.js';
import type { MappingFormat } from './spec.js';

export interface Missing {
  what: string;
  aliases: string[];
  field?: string;
  /** How the sources read in a message (default: the aliases in quotes). */
  shown?: string[];
}

export function hasSource(f: FieldPlan): boolean {
  return f.aliases.length > 0 || f.ref !== null || f.template !== null;
}

/** 0-based columns a bound source reads (a column, or a template's columns). */
export function columnsRead(src: BoundSource, out: Set<number>): void {
  if (src.kind === S_COLUMN) out.add(src.col);
  if (src.parts !== undefined) for (const p of src.parts) columnsRead(p, out);
}

/**
 * Pattern `each` columns for one header: `columns:` (regex on the header text; group 1 is
 * $eachMatch) or `allExcept:` (every named column not excepted and not in `claimed`).
 */
export function expandEachColumns(e: EachPlan, header: string[], claimed: Set<number>): BoundEach[] {
  const out: BoundEach[] = [];
  for (let i = 0; i < header.length; i++) {
    const text = header[i].replace(/\u00a0/g, ' ').trim();
    if (e.pattern !== null) {
      const m = e.pattern.exec(text);
      if (m === null) continue;
      out.push({ kind: S_COLUMN, col: i, aliases: [], plan: e, header: text, match: (m.groups?.value ?? m[1] ?? m[0]).trim() });
    } else if (text !== '' && !claimed.has(i) && !e.except!.has(normalizeHeader(text))) {
      out.push({ kind: S_COLUMN, col: i, aliases: [], plan: e, header: text, match: text });
    }
  }
  return out;
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

/** What a CSV field is bound against: the header row, and the lines above it (key/value blocks). */
export interface CsvBindContext {
  header: string[];
  index: Map<string, number>;
  preamble: PreambleLine[];
  /** Block values found while binding, by key (see blockKey); the engine reads them. */
  blockValues: Map<string, string>;
}

export function blockKey(label: string, below: boolean, offset: number): string {
  return `${below ? 'below' : 'right'}:${offset}:${normalizeLabel(label)}`;
}

const NONE: BoundSource = { kind: S_NONE, col: -1, aliases: [] };

/** Binds a CSV field's source: header aliases, an addressed column or block (`from` object), or a template. */
export function bindCsvField(f: FieldPlan, cx: CsvBindContext): BoundSource {
  if (f.template !== null) {
    const parts = f.template.names.map((n) => bindCsvSource([n], cx.index));
    if (parts.some((p) => p.kind === S_NONE)) return NONE;
    return { kind: S_TEMPLATE, col: -1, aliases: f.template.literals, parts };
  }
  const ref = f.ref;
  if (ref === null) return bindCsvSource(f.aliases, cx.index);
  if (ref.block !== undefined) {
    const below = ref.below === true;
    const offset = ref.offset ?? 1;
    const hit = findBlockValue(cx.preamble, ref.block, below, offset);
    if (hit === undefined) return NONE;
    const key = blockKey(ref.block, below, offset);
    cx.blockValues.set(key, hit.value);
    return { kind: S_BLOCK, col: -1, aliases: [key], blockLine: hit.line };
  }
  let col = -1;
  if (ref.column !== undefined) col = ref.column - 1;
  else if (ref.header !== undefined || ref.rightOf !== undefined) {
    const want = normalizeHeader(ref.header ?? ref.rightOf!);
    let n = ref.header !== undefined ? ref.occurrence ?? 1 : 1;
    for (let i = 0; i < cx.header.length; i++) {
      if (normalizeHeader(cx.header[i]) === want && --n === 0) {
        col = i;
        break;
      }
    }
    if (col >= 0 && ref.rightOf !== undefined) col += ref.offset ?? 1;
  }
  return col >= 0 && col < cx.header.length ? { kind: S_COLUMN, col, aliases: [] } : NONE;
}

/** How a field's source reads in messages: `"Charge"`, `block "Sample ID:"`, `column 3`, … */
export function describeSource(f: FieldPlan): string[] {
  if (f.template !== null) return [`template ${JSON.stringify(f.template.names.map((n) => `{${n}}`).join(' '))}`];
  const ref = f.ref;
  if (ref === null) return f.aliases.map((a) => `"${a}"`);
  if (ref.block !== undefined) return [`the label "${ref.block}" in the lines above the header (key/value block)`];
  if (ref.column !== undefined) return [`column ${ref.column}`];
  if (ref.header !== undefined) return [`occurrence ${ref.occurrence ?? 1} of header "${ref.header}"`];
  return [`the column ${ref.offset ?? 1} right of "${ref.rightOf}"`];
}

export function bindTreeSource(aliases: string[], format: MappingFormat): BoundSource {
  if (format === 'xml') return { kind: aliases.length > 0 ? S_XML : S_NONE, col: -1, aliases };
  for (const a of aliases) {
    const special = specialKind(a);
    if (special !== S_NONE) return { kind: special, col: -1, aliases: [] };
  }
  return { kind: S_NONE, col: -1, aliases: [] };
}

export function bindRecords(
  plans: RecordPlan[],
  bindSource: (aliases: string[]) => BoundSource,
  missing: Missing[] | null,
  headerText: (col: number, alias: string) => string,
  bindField: (f: FieldPlan) => BoundSource = (f) => bindSource(f.aliases),
  expandEach: ((e: EachPlan) => BoundEach[]) | null = null,
): BoundRecord[] {
  return plans.map((plan) => {
    const fields = plan.fields.map((f): BoundField => {
      const src = f.hasConst ? { kind: S_NONE, col: -1, aliases: [] } : bindField(f);
      // A column the mapping names must be in the header unless the field says it may be absent
      // (a typo must not silently empty a field on every row).
      if (missing !== null && src.kind === S_NONE && !f.hasConst && !f.optional && hasSource(f)) {
        const setEverywhere = plan.each !== null && plan.each.every((e) => e.setNames.has(f.name));
        if (!setEverywhere) missing.push({ what: `${f.required ? 'required ' : ''}field '${f.name}'`, aliases: f.aliases, shown: describeSource(f), field: f.name });
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
        if (e.path !== null || e.join !== null) {
          // XML: the elements at a path, or the values a join resolves keys to (per record).
          each.push({ kind: e.path !== null ? S_XML_EACH : S_JOIN_EACH, col: -1, aliases: e.path !== null ? [e.path] : e.joinKeys, plan: e, header: e.path ?? e.join! });
          continue;
        }
        if (e.pattern !== null || e.except !== null) {
          const found = expandEach === null ? [] : expandEach(e);
          each.push(...found);
          if (missing !== null && found.length === 0 && !e.optional) {
            missing.push({ what: `${plan.kind} 'each' columns`, aliases: [], shown: [e.pattern !== null ? `headers matching /${e.pattern.source}/` : 'any column besides those excepted and those read elsewhere'] });
          }
          continue;
        }
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
