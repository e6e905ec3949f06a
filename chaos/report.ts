// The pure part of `npm run chaos`: what a run's store and outbound folders say about the files
// that were sent (one outcome per file), how that compares with the clean run of the same
// files, and the table printed per fault. No I/O here (see chaos/lib/observe.ts for the reading).

export const TERMINAL_STATES = ['applied', 'applied_with_errors', 'rejected', 'duplicate', 'quarantined'] as const;
const TERMINAL = new Set<string>(TERMINAL_STATES);
const APPLIED = new Set(['applied', 'applied_with_errors']);

/** What kind of file it is, and so what a clean run must make of it. */
export type FileKind = 'good' | 'row-errors' | 'bad' | 'duplicate';

export const EXPECTED_STATE: Record<FileKind, string> = {
  good: 'applied',
  'row-errors': 'applied_with_errors',
  bad: 'rejected',
  duplicate: 'duplicate',
};

export interface SentFile {
  partner: string;
  /** The name it was uploaded as (inbound/<name>). */
  name: string;
  kind: FileKind;
}

/** One ledger row, as read from the store. */
export interface SubmissionSeen {
  id: number;
  partner: string;
  name: string;
  state: string;
  rows: number;
  applied: number;
  rejected: number;
}

/** One acknowledgment file found in a partner's outbound/ folder. */
export interface AckSeen {
  partner: string;
  submissionId: number | null;
  state: string;
  file: string;
}

export interface Snapshot {
  submissions: SubmissionSeen[];
  acks: AckSeen[];
  /** Fact rows per table, whole store. */
  factTotals: Record<string, number>;
  /** Fact rows per table that carry each submission id as provenance. */
  factsBySubmission: Record<number, Record<string, number>>;
  /** Terminal audit actions per submission id, oldest first (`applied`, `quarantined`, …). */
  terminalHistory: Record<number, string[]>;
  /**
   * Files still lying in a partner's drop folders once the run has settled: inbound/ (incl. an
   * upload's hidden temp file), .intake/ (claimed, not registered), .quarantine/ (partial bytes
   * never registered). lotgate removes each of them when it records the file.
   */
  leftovers?: Leftover[];
}

export interface Leftover {
  partner: string;
  where: 'inbound' | '.intake' | '.quarantine';
  name: string;
}

export interface FileOutcome {
  partner: string;
  name: string;
  kind: FileKind;
  /** State of the submission that decides the file's fate; 'missing' when none was recorded. */
  state: string;
  submissionId: number | null;
  /** How many ledger rows the file has (a resend after a failed upload adds one). */
  submissions: number;
  rows: number;
  applied: number;
  rejected: number;
  facts: Record<string, number>;
}

export type DiscrepancyKind = 'missing' | 'not-terminal' | 'state' | 'counts' | 'facts' | 'ack' | 'rewritten' | 'stranded' | 'totals' | 'fault';

export interface Discrepancy {
  kind: DiscrepancyKind;
  /** partner/name of the file concerned, when there is one. */
  file?: string;
  detail: string;
}

/** "LIMS (2).csv" → "LIMS.csv": the drop zone renames a second upload of a name still in inbound/. */
export function baseName(name: string): string {
  return name.replace(/ \(\d+\)(?=(\.[^.]*)?$)/, '');
}

function addCounts(into: Record<string, number>, from: Record<string, number> | undefined): void {
  for (const [k, v] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + v;
}

/**
 * The fate of each sent file. A file may have several submissions (an interrupted upload that was
 * sent again, a resend after a failed upload that had in fact arrived): the one that decides is
 * the last applied one if any, else the newest. Facts are summed over all of them.
 */
export function fileOutcomes(sent: readonly SentFile[], snap: Snapshot): FileOutcome[] {
  const byFile = new Map<string, SubmissionSeen[]>();
  for (const s of [...snap.submissions].sort((a, b) => a.id - b.id)) {
    const k = `${s.partner}/${baseName(s.name)}`;
    if (!byFile.has(k)) byFile.set(k, []);
    byFile.get(k)!.push(s);
  }
  return sent.map((f) => {
    const subs = byFile.get(`${f.partner}/${f.name}`) ?? [];
    const applied = subs.filter((s) => APPLIED.has(s.state));
    const decisive = applied.length ? applied[applied.length - 1] : subs[subs.length - 1];
    const facts: Record<string, number> = {};
    for (const s of subs) addCounts(facts, snap.factsBySubmission[s.id]);
    return {
      partner: f.partner,
      name: f.name,
      kind: f.kind,
      state: decisive?.state ?? 'missing',
      submissionId: decisive?.id ?? null,
      submissions: subs.length,
      rows: decisive?.rows ?? 0,
      applied: decisive?.applied ?? 0,
      rejected: decisive?.rejected ?? 0,
      facts,
    };
  });
}

/** Submissions of the sent files whose terminal state was recorded and later replaced by another. */
export function rewrittenTerminals(sent: readonly SentFile[], snap: Snapshot): { submission: SubmissionSeen; history: string[] }[] {
  const names = new Set(sent.map((f) => `${f.partner}/${f.name}`));
  const out: { submission: SubmissionSeen; history: string[] }[] = [];
  for (const s of snap.submissions) {
    if (!names.has(`${s.partner}/${baseName(s.name)}`)) continue;
    const h = snap.terminalHistory[s.id] ?? [];
    const changed = h.some((a, i) => i > 0 && a !== h[0]) || (h.length > 0 && TERMINAL.has(s.state) && s.state !== h[0]);
    if (changed) out.push({ submission: s, history: h });
  }
  return out;
}

/**
 * Terminal submissions of the sent files that have no acknowledgment naming them in their state.
 * `found` is the state an acknowledgment naming them gives instead; `replacedBy` the submission
 * whose acknowledgment now has the file's name (a later upload of the same name overwrote it).
 */
export function missingAcks(sent: readonly SentFile[], snap: Snapshot): { submission: SubmissionSeen; found: string | null; replacedBy: number | null }[] {
  const names = new Set(sent.map((f) => `${f.partner}/${f.name}`));
  const bySub = new Map<string, AckSeen[]>();
  for (const a of snap.acks) {
    if (a.submissionId === null) continue;
    const k = `${a.partner}/${a.submissionId}`;
    if (!bySub.has(k)) bySub.set(k, []);
    bySub.get(k)!.push(a);
  }
  const out: { submission: SubmissionSeen; found: string | null; replacedBy: number | null }[] = [];
  for (const s of snap.submissions) {
    if (!names.has(`${s.partner}/${baseName(s.name)}`) || !TERMINAL.has(s.state)) continue;
    const acks = bySub.get(`${s.partner}/${s.id}`) ?? [];
    if (acks.some((a) => a.state === s.state)) continue;
    const other = snap.acks.find((a) => a.partner === s.partner && a.file === s.name && a.submissionId !== null && a.submissionId !== s.id);
    out.push({ submission: s, found: acks[0]?.state ?? null, replacedBy: other?.submissionId ?? null });
  }
  return out;
}

/** Does a leftover in the drop folders hold (a part of) this sent file? Staged and temp names embed the original name's stem. */
export function leftoverOf(l: Leftover, f: { partner: string; name: string }): boolean {
  if (l.partner !== f.partner) return false;
  const stem = f.name.replace(/\.[^.]*$/, '');
  const n = l.name.includes('~') ? l.name.slice(l.name.indexOf('~') + 1) : l.name;
  if (n === f.name) return true;
  // Another sent file's name may extend this one's stem (x_0001.csv / x_0001_resend.csv): the stem must end there.
  const i = n.indexOf(stem);
  return i >= 0 && !/[A-Za-z0-9_]/.test(n.charAt(i + stem.length));
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

function fmtCounts(c: Record<string, number>): string {
  const parts = Object.entries(c).filter(([, v]) => v !== 0);
  return parts.length ? parts.map(([k, v]) => `${k} ${v}`).join(', ') : 'none';
}

/** Facts the store holds apart from the sent files (master data seeded before the run). */
export function baselineFacts(sent: readonly SentFile[], snap: Snapshot): Record<string, number> {
  const base: Record<string, number> = { ...snap.factTotals };
  for (const o of fileOutcomes(sent, snap)) for (const [k, v] of Object.entries(o.facts)) base[k] = (base[k] ?? 0) - v;
  return base;
}

export interface Comparison {
  outcomes: FileOutcome[];
  discrepancies: Discrepancy[];
  /** The fact totals a faultless run of these files would have (from the clean run). */
  expectedTotals: Record<string, number>;
  acksPresent: number;
  acksWanted: number;
  rewritten: number;
}

/**
 * Checks one run against the clean run. `clean` may be null for the clean run itself, which is
 * then checked against what each kind of file must become (EXPECTED_STATE).
 */
export function compare(sent: readonly SentFile[], run: Snapshot, clean: { sent: readonly SentFile[]; snap: Snapshot } | null, faultNotes: readonly string[] = []): Comparison {
  const d: Discrepancy[] = [];
  const outcomes = fileOutcomes(sent, run);
  const cleanOutcomes = clean ? new Map(fileOutcomes(clean.sent, clean.snap).map((o) => [`${o.partner}/${o.name}`, o])) : null;

  for (const o of outcomes) {
    const file = `${o.partner}/${o.name}`;
    const ref = cleanOutcomes?.get(file);
    if (o.state === 'missing') {
      const where = (run.leftovers ?? []).filter((l) => leftoverOf(l, o));
      const at = where.length ? `; it lies in ${where.map((l) => `drop/${l.partner}/${l.where}/${l.name}`).join(', ')}` : '; it is nowhere in the drop folders';
      d.push({ kind: 'missing', file, detail: `${file}: sent, but the ledger has no submission for it${at}` });
      continue;
    }
    if (!TERMINAL.has(o.state)) {
      d.push({ kind: 'not-terminal', file, detail: `${file}: still ${o.state} (submission ${o.submissionId}) when the wait ended` });
      continue;
    }
    const wantState = ref ? ref.state : EXPECTED_STATE[o.kind];
    if (o.state !== wantState) {
      d.push({ kind: 'state', file, detail: `${file}: ${o.state} (submission ${o.submissionId}), the ${ref ? 'clean run' : 'file kind'} says ${wantState}` });
      continue;
    }
    if (ref && (o.rows !== ref.rows || o.applied !== ref.applied || o.rejected !== ref.rejected)) {
      d.push({ kind: 'counts', file, detail: `${file}: rows/applied/rejected ${o.rows}/${o.applied}/${o.rejected}, clean run ${ref.rows}/${ref.applied}/${ref.rejected}` });
    }
    if (ref && !sameCounts(o.facts, ref.facts)) {
      d.push({ kind: 'facts', file, detail: `${file}: facts stored ${fmtCounts(o.facts)}; clean run ${fmtCounts(ref.facts)}` });
    }
  }

  const missing = missingAcks(sent, run);
  for (const m of missing) {
    const file = `${m.submission.partner}/${baseName(m.submission.name)}`;
    d.push({
      kind: 'ack',
      file,
      detail: `${file}: submission ${m.submission.id} is ${m.submission.state} but ${m.found ? `its acknowledgment says ${m.found}` : 'no acknowledgment names it'}${m.replacedBy !== null ? ` (the acknowledgment of that name now answers submission ${m.replacedBy})` : ''}`,
    });
  }
  const acksWanted = run.submissions.filter((s) => TERMINAL.has(s.state) && sent.some((f) => f.partner === s.partner && f.name === baseName(s.name))).length;

  const rewritten = rewrittenTerminals(sent, run);
  for (const r of rewritten) {
    const file = `${r.submission.partner}/${baseName(r.submission.name)}`;
    d.push({ kind: 'rewritten', file, detail: `${file}: submission ${r.submission.id} terminal state rewritten: audit ${r.history.join(' → ')}, ledger now ${r.submission.state}` });
  }

  const missingFiles = outcomes.filter((o) => o.state === 'missing');
  for (const l of run.leftovers ?? []) {
    if (missingFiles.some((o) => leftoverOf(l, o))) continue;
    const owner = sent.find((f) => leftoverOf(l, f));
    d.push({
      kind: 'stranded',
      file: owner ? `${owner.partner}/${owner.name}` : undefined,
      detail: `drop/${l.partner}/${l.where}/${l.name}: left in the drop zone with no ledger row${owner ? ` (bytes of ${owner.name})` : ''}; nobody was answered for it`,
    });
  }

  let expectedTotals: Record<string, number> = {};
  if (clean) {
    expectedTotals = baselineFacts(clean.sent, clean.snap);
    for (const o of outcomes) addCounts(expectedTotals, cleanOutcomes?.get(`${o.partner}/${o.name}`)?.facts);
    for (const k of new Set([...Object.keys(expectedTotals), ...Object.keys(run.factTotals)])) {
      const want = expectedTotals[k] ?? 0;
      const got = run.factTotals[k] ?? 0;
      if (want !== got) d.push({ kind: 'totals', detail: `${k}: ${got} rows in the store, a clean run of these files gives ${want} (${got > want ? '+' : ''}${got - want})` });
    }
  } else {
    expectedTotals = { ...run.factTotals };
  }
  for (const n of faultNotes) d.push({ kind: 'fault', detail: n });
  return { outcomes, discrepancies: d, expectedTotals, acksPresent: acksWanted - missing.length, acksWanted, rewritten: rewritten.length };
}

export interface RunSummary {
  filesSent: number;
  submissions: number;
  states: Record<string, number>;
  notTerminal: number;
  acks: string;
  facts: Record<string, number>;
  rewritten: number;
}

export function summarize(sent: readonly SentFile[], run: Snapshot, c: Comparison): RunSummary {
  const states: Record<string, number> = Object.fromEntries(TERMINAL_STATES.map((s) => [s, 0]));
  let notTerminal = 0;
  for (const o of c.outcomes) {
    if (TERMINAL.has(o.state)) states[o.state]++;
    else notTerminal++;
  }
  const names = new Set(sent.map((f) => `${f.partner}/${f.name}`));
  return {
    filesSent: sent.length,
    submissions: run.submissions.filter((s) => names.has(`${s.partner}/${baseName(s.name)}`)).length,
    states,
    notTerminal,
    acks: `${c.acksPresent}/${c.acksWanted}`,
    facts: run.factTotals,
    rewritten: c.rewritten,
  };
}

/**
 * The per-fault table: one line per measure, the clean run's value (for these files) beside this
 * run's, and "DIFF" where they disagree. `clean` null prints the clean run alone.
 */
export function renderTable(run: RunSummary, clean: RunSummary | null, expectedTotals: Record<string, number> | null): string {
  const lines: [string, string, string][] = [];
  const row = (label: string, mine: string | number, ref: string | number | null, ok: boolean) => lines.push([label, ref === null ? '' : String(ref), `${mine}${ok ? '' : '  DIFF'}`]);
  const ref = <T>(f: (s: RunSummary) => T): T | null => (clean ? f(clean) : null);
  row('files sent', run.filesSent, ref((s) => s.filesSent), true);
  row('submissions in the ledger', run.submissions, ref((s) => s.submissions), true);
  for (const s of TERMINAL_STATES) {
    const r = ref((x) => x.states[s] ?? 0);
    row(`  ${s}`, run.states[s] ?? 0, r, r === null || r === (run.states[s] ?? 0));
  }
  row('  not terminal', run.notTerminal, ref((s) => s.notTerminal), run.notTerminal === 0);
  const [got, want] = run.acks.split('/').map(Number);
  row('acks present (terminal submissions)', run.acks, ref((s) => s.acks), got === want);
  const keys = [...new Set([...Object.keys(expectedTotals ?? {}), ...Object.keys(run.facts)])].sort();
  for (const k of keys) {
    const e = expectedTotals ? expectedTotals[k] ?? 0 : null;
    // Fact tables these files never write (and nothing else did) only add noise.
    if ((e ?? 0) === 0 && (run.facts[k] ?? 0) === 0) continue;
    row(`facts: ${k}`, run.facts[k] ?? 0, clean ? e : null, e === null || !clean || e === (run.facts[k] ?? 0));
  }
  row('terminal states rewritten', run.rewritten, ref((s) => s.rewritten), run.rewritten === 0);
  const head: [string, string, string] = ['measure', clean ? 'clean run' : '', clean ? 'this run' : 'clean run'];
  const all = [head, ...lines];
  const w = [0, 1, 2].map((i) => Math.max(...all.map((l) => l[i].length)));
  const fmt = (l: [string, string, string]) => (clean ? `| ${l[0].padEnd(w[0])} | ${l[1].padStart(w[1])} | ${l[2].padEnd(w[2])} |` : `| ${l[0].padEnd(w[0])} | ${l[2].padEnd(w[2])} |`);
  const sep = clean ? `|${'-'.repeat(w[0] + 2)}|${'-'.repeat(w[1] + 2)}|${'-'.repeat(w[2] + 2)}|` : `|${'-'.repeat(w[0] + 2)}|${'-'.repeat(w[2] + 2)}|`;
  return [fmt(head), sep, ...lines.map(fmt)].join('\n');
}

/** Discrepancies grouped for printing: at most `perKind` lines of each kind, then a count. */
export function renderDiscrepancies(d: readonly Discrepancy[], perKind = 6): string {
  if (d.length === 0) return 'no discrepancy';
  const out = [`${d.length} discrepanc${d.length === 1 ? 'y' : 'ies'}:`];
  const kinds = [...new Set(d.map((x) => x.kind))];
  for (const k of kinds) {
    const of = d.filter((x) => x.kind === k);
    for (const x of of.slice(0, perKind)) out.push(`  [${k}] ${x.detail}`);
    if (of.length > perKind) out.push(`  [${k}] … and ${of.length - perKind} more`);
  }
  return out.join('\n');
}
