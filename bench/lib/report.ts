// The printed table and results.json.

import { spawnSync } from 'node:child_process';
import os from 'node:os';
import type { ScenarioResult } from './context.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  sqlite3: string | null;
  openssh: string | null;
  redis: string | null;
}

function version(cmd: string, args: string[], pick: (out: string) => string): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return r.error || !out ? null : pick(out);
}

export function machine(): Machine {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    sqlite3: version('sqlite3', ['-version'], (o) => o.split(' ')[0]),
    // `ssh -V` prints to stderr.
    openssh: version('ssh', ['-V'], (o) => o.split(',')[0]),
    redis: version('redis-server', ['--version'], (o) => /v=(\S+)/.exec(o)?.[1] ?? o),
  };
}

const secs = (s: number | undefined | null) => (s === undefined || s === null || !Number.isFinite(s) ? '—' : s < 10 ? s.toFixed(2) : s.toFixed(1));

function rate(v: { value: number; unit: string } | undefined): string {
  if (!v || !Number.isFinite(v.value)) return '—';
  const n = v.value >= 100 ? Math.round(v.value).toLocaleString('en-US') : v.value.toFixed(1);
  return `${n} ${v.unit}`;
}

export function verdict(r: ScenarioResult): string {
  return r.met === true ? 'MET' : r.met === false ? 'NOT MET' : 'n/a';
}

/** A Markdown table (readable in a terminal and pasteable into bench/README.md). */
export function table(results: ScenarioResult[]): string {
  const head = ['#', 'scenario', 'lotgate s', 'reference s', 'ratio', 'lotgate rate', 'reference rate', 'peak RSS MB', 'target', 'result', 'met'];
  const rows = results.map((r) => [
    String(r.id),
    r.name,
    secs(r.lotgate?.medianSeconds),
    secs(r.reference?.medianSeconds),
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
    rate(r.lotgate?.throughput),
    rate(r.reference?.throughput),
    r.lotgate?.peakRssMb ? r.lotgate.peakRssMb.toFixed(0) : '—',
    r.target,
    r.outcome,
    verdict(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
