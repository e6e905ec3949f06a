// Scope: which lots (and so which facts, submissions and files) a principal may see. A role
// binding carries one scope; a principal's access is the union of its bindings' scopes. Every
// store read that a principal can reach goes through scopeWhere / submissionScopeWhere — the
// one place where scope becomes SQL — so lists, counts, exports, details, provenance and raw
// downloads all honour it the same way.

/** One dimension: `*` (everything) or a list of values. */
export type ScopeDim = '*' | readonly string[];

export interface Scope {
  /** lots.site */
  sites: ScopeDim;
  /** lots.material_id or the material's product_family */
  materials: ScopeDim;
  /** The partner that sent a fact about the lot, or the lot's vendor */
  partners: ScopeDim;
}

/** Everything: administrators of the whole installation, the CLI on the server itself. */
export const ALL_SCOPE: Scope = { sites: '*', materials: '*', partners: '*' };

/** A principal's effective access: the union of these scopes (empty = nothing). */
export type Access = 'all' | readonly Scope[];

export interface SqlPart {
  sql: string;
  args: unknown[];
}

/** "Always" and "never" as conditions both SQLite and PostgreSQL accept (PostgreSQL refuses a bare 1/0). */
export const ALWAYS = '1 = 1';
export const NEVER = '1 = 0';

const isAll = (d: ScopeDim) => d === '*' || (Array.isArray(d) && d.includes('*'));

function inList(expr: string, values: readonly string[]): SqlPart {
  if (values.length === 0) return { sql: NEVER, args: [] };
  return { sql: `${expr} IN (${values.map(() => '?').join(', ')})`, args: [...values] };
}

/** Facts about lot `lot` that partner list `p` sent (any fact table). */
function partnerTouches(lot: string, values: readonly string[]): SqlPart {
  const inner = inList('x.partner', values);
  const tables = ['lot_identifiers', 'stage_events', 'test_results', 'documents', 'dispositions'];
  const parts = [
    inList(`${lot}.partner`, values),
    inList(`${lot}.vendor`, values),
    ...tables.map((t) => ({ sql: `EXISTS (SELECT 1 FROM ${t} x WHERE x.lot_id = ${lot}.id AND ${inner.sql})`, args: inner.args })),
  ];
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, args: parts.flatMap((p) => p.args) };
}

function oneScope(s: Scope, lot: string): SqlPart {
  const parts: SqlPart[] = [];
  if (!isAll(s.sites)) parts.push(inList(`${lot}.site`, s.sites as string[]));
  if (!isAll(s.materials)) {
    const m = s.materials as string[];
    const mat = inList(`${lot}.material_id`, m);
    const fam = inList('pf.product_family', m);
    parts.push({ sql: `(${mat.sql} OR EXISTS (SELECT 1 FROM materials pf WHERE pf.material_id = ${lot}.material_id AND ${fam.sql}))`, args: [...mat.args, ...fam.args] });
  }
  if (!isAll(s.partners)) parts.push(partnerTouches(lot, s.partners as string[]));
  if (!parts.length) return { sql: ALWAYS, args: [] };
  return { sql: `(${parts.map((p) => p.sql).join(' AND ')})`, args: parts.flatMap((p) => p.args) };
}

/** SQL predicate over a `lots` row aliased `lot` that is true exactly for the lots `access` may see. */
export function scopeWhere(access: Access, lot = 'l'): SqlPart {
  if (access === 'all') return { sql: ALWAYS, args: [] };
  if (access.length === 0) return { sql: NEVER, args: [] };
  const parts = access.map((s) => oneScope(s, lot));
  if (parts.some((p) => p.sql === ALWAYS)) return { sql: ALWAYS, args: [] };
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, args: parts.flatMap((p) => p.args) };
}

/** Lot ids a submission wrote facts about. */
const TOUCHED = (sub: string) =>
  ['lots', 'lot_identifiers', 'stage_events', 'test_results', 'documents', 'dispositions', 'deviation_lots']
    .map((t) => `SELECT ${t === 'lots' ? 'id' : 'lot_id'} AS lot_id FROM ${t} WHERE submission_id = ${sub}.id`)
    .join(' UNION ');

/**
 * SQL predicate over a `submissions` row aliased `sub`. A submission is visible when its partner
 * is in a scope, and — for scopes restricted by site or material — when every lot it wrote
 * facts about is visible (a file about another site's lots would leak them through its rows,
 * rejected values and raw bytes), and it touched at least one.
 */
export function submissionScopeWhere(access: Access, sub = 's'): SqlPart {
  if (access === 'all') return { sql: ALWAYS, args: [] };
  const parts: SqlPart[] = [];
  for (const s of access) {
    const p: SqlPart[] = [];
    if (!isAll(s.partners)) p.push(inList(`${sub}.partner`, s.partners as string[]));
    if (!isAll(s.sites) || !isAll(s.materials)) {
      const lotScope = oneScope({ ...s, partners: '*' }, 'tl');
      p.push({
        sql: `(EXISTS (${TOUCHED(sub)}) AND NOT EXISTS (SELECT 1 FROM lots tl WHERE tl.id IN (${TOUCHED(sub)}) AND NOT ${lotScope.sql}))`,
        args: lotScope.args,
      });
    }
    if (!p.length) return { sql: ALWAYS, args: [] };
    parts.push({ sql: `(${p.map((x) => x.sql).join(' AND ')})`, args: p.flatMap((x) => x.args) });
  }
  if (!parts.length) return { sql: NEVER, args: [] };
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, args: parts.flatMap((p) => p.args) };
}

/** Parses `a,b` / `*` from the command line or a request into a scope dimension. */
export function parseScopeDim(v: string | undefined | null): ScopeDim {
  if (v == null || v.trim() === '' || v.trim() === '*') return '*';
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}
