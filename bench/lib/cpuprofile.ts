// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function and per file, and
// inclusive ("total") time per function, so a slow scenario's report can say where time goes.

import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileLine {
  name: string;
  where: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  /** Time the thread was busy (samples not in "(idle)"); percentages are of this. */
  totalMs: number;
  idleMs: number;
  selfByFunction: ProfileLine[];
  selfByFile: ProfileLine[];
  totalByFunction: ProfileLine[];
}

function shortUrl(url: string, root: string): string {
  if (!url) return '(native)';
  const p = url.startsWith('file://') ? url.slice(7) : url;
  const rel = path.relative(root, p);
  return rel.startsWith('..') ? p : rel;
}

export function summarizeProfile(file: string, root: string, top = 25): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  // Self time from the samples (timeDeltas) when present; hitCount × interval otherwise.
  const selfUs = new Map<number, number>();
  if (prof.samples && prof.timeDeltas) {
    for (let i = 0; i < prof.samples.length; i++) selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + Math.max(0, prof.timeDeltas[i + 1] ?? 0));
  } else {
    const hits = prof.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0) || 1;
    const per = (prof.endTime - prof.startTime) / hits;
    for (const n of prof.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * per);
  }
  // An idle thread (waiting on the event loop) is not a cost: leave "(idle)" out of the shares.
  let idleUs = 0;
  for (const n of prof.nodes) {
    if (n.callFrame.functionName === '(idle)') {
      idleUs += selfUs.get(n.id) ?? 0;
      selfUs.set(n.id, 0);
    }
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const key = (n: Node) => `${n.callFrame.functionName || '(anonymous)'}\u0000${shortUrl(n.callFrame.url, root)}:${n.callFrame.lineNumber + 1}`;

  const fnSelf = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  for (const n of prof.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    fnSelf.set(key(n), (fnSelf.get(key(n)) ?? 0) + us);
    const f = shortUrl(n.callFrame.url, root) || n.callFrame.functionName;
    const fk = n.callFrame.url ? f : `(${n.callFrame.functionName || 'native'})`;
    fileSelf.set(fk, (fileSelf.get(fk) ?? 0) + us);
  }

  // Inclusive time: each function counted once per stack (recursion not double-counted).
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fnTotal = new Map<string, number>();
  for (const n of prof.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = n.id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      fnTotal.set(k, (fnTotal.get(k) ?? 0) + us);
    }
  }

  const lines = (m: Map<string, number>): ProfileLine[] =>
    [...m.entries()]
      .filter(([, us]) => us > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => {
        const [name, where] = k.includes('\u0000') ? k.split('\u0000') : [k, ''];
        return { name, where, ms: us / 1000, pct: (100 * us) / totalUs };
      });
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, selfByFunction: lines(fnSelf), selfByFile: lines(fileSelf), totalByFunction: lines(fnTotal) };
}

export function formatSummary(s: ProfileSummary, top = 20): string {
  const fmt = (l: ProfileLine) => `  ${l.pct.toFixed(1).padStart(5)}%  ${l.ms.toFixed(0).padStart(7)} ms  ${l.name}${l.where ? `  ${l.where}` : ''}`;
  return [
    `busy ${s.totalMs.toFixed(0)} ms (idle ${s.idleMs.toFixed(0)} ms not counted)`,
    'self time by function:',
    ...s.selfByFunction.slice(0, top).map(fmt),
    'self time by file:',
    ...s.selfByFile.slice(0, top).map(fmt),
    'inclusive time by function:',
    ...s.totalByFunction.slice(0, top).map(fmt),
  ].join('\n');
}
