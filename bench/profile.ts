// `node dist/bench/profile.js <file.cpuprofile> [top]` — prints where the time went.

import { formatSummary, summarizeProfile } from './lib/cpuprofile.js';
import { REPO_ROOT } from './lib/paths.js';

const [file, top] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/profile.js <file.cpuprofile> [top]\n');
  process.exit(2);
}
const n = Number(top ?? 25);
process.stdout.write(formatSummary(summarizeProfile(file, REPO_ROOT, n), n) + '\n');
