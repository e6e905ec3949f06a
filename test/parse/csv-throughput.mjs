// Throughput of readCsv alone (not part of the test suite; vitest only runs *.test.ts).
// Usage: npm run build && node test/parse/csv-throughput.mjs [rows]
// Writes a generated 12-column CSV to the temp dir, reads it three times, prints ms and MB/s.

import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCsv } from '../../dist/pipeline/parse/csv-reader.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const file = path.join(tmpdir(), `lotgate-throughput-${process.pid}.csv`);

const out = createWriteStream(file);
out.write('lot,material,site,stage,status,date,qty,uom,vendor,test,result,note\n');
let buf = '';
for (let i = 0; i < rows; i++) {
  const day = String((i % 28) + 1).padStart(2, '0');
  const min = String(i % 60).padStart(2, '0');
  buf += `L${100000 + i},MAT-${i % 500},SITE${i % 7},FILL,completed,2024-03-${day} 10:${min},${(i * 1.5).toFixed(1)},KG,ACME,ASSAY,${98 + (i % 3)}.5,"ok, fine"\n`;
  if (buf.length > 65536) {
    if (!out.write(buf)) await once(out, 'drain');
    buf = '';
  }
}
out.end(buf);
await once(out, 'finish');
const mb = statSync(file).size / 1e6;

try {
  for (let run = 1; run <= 3; run++) {
    const t = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    let n = 0;
    for await (const item of readCsv(createReadStream(file))) if (item.kind === 'row') n++;
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    const rss = process.memoryUsage().rss / 1e6;
    // CPU time as well: on a shared box wall time mostly measures the neighbours.
    console.log(
      `run ${run}: ${n} rows, ${mb.toFixed(1)} MB in ${ms.toFixed(0)} ms = ${(mb / (ms / 1000)).toFixed(1)} MB/s, ` +
        `cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, rss ${rss.toFixed(0)} MB`,
    );
  }
} finally {
  rmSync(file, { force: true });
}
