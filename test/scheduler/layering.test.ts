// The scheduler is a runner and the jobs are its cargo: each job lives in jobs/ (its helpers in
// jobs/<name>-*.ts), talks to the scheduler only through the job contract (pipeline/scheduler/job.ts),
// and only the composition root (pipeline/cli/) hands the job list to the scheduler.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = path.join(dir, d.name);
    if (d.isDirectory()) return tsFiles(rel);
    return d.name.endsWith('.ts') ? [rel] : [];
  });
}

/** Repository-relative targets of a file's relative imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)].map((m) => path.join(path.dirname(file), m[1] ?? m[2]).replace(/\.js$/, '.ts'));
}

describe('jobs and scheduler layering', () => {
  it('nothing in pipeline/ imports a job, except the composition root (pipeline/cli/)', () => {
    const offenders = tsFiles('pipeline')
      .filter((f) => !f.startsWith(`pipeline${path.sep}cli${path.sep}`))
      .flatMap((f) => importsOf(f).filter((t) => t.startsWith(`jobs${path.sep}`)).map((t) => `${f} -> ${t}`));
    expect(offenders).toEqual([]);
  });

  it('jobs use the scheduler only through the job contract (pipeline/scheduler/job.ts)', () => {
    const contract = path.join('pipeline', 'scheduler', 'job.ts');
    const offenders = tsFiles('jobs').flatMap((f) => importsOf(f).filter((t) => t.startsWith(`pipeline${path.sep}scheduler${path.sep}`) && t !== contract).map((t) => `${f} -> ${t}`));
    expect(offenders).toEqual([]);
  });

  it('pipeline/scheduler/ holds the runner only: no file named after a job', async () => {
    const { JOBS } = await import('../../jobs/index.js');
    const names = JOBS.map((j) => j.name);
    const files = readdirSync(path.join(root, 'pipeline', 'scheduler'));
    expect(files.filter((f) => names.some((n) => f.startsWith(n.split('-')[0])))).toEqual([]);
    // and every job has its file in jobs/
    for (const n of names) expect(readdirSync(path.join(root, 'jobs'))).toContain(`${n}.ts`);
  });
});
