// Module hooks that let a child `node` process run lotgate's TypeScript sources directly (tests
// that need a real second process or a real kill): `.js` imports resolve to the `.ts` next to
// them, and `.ts` files are transpiled with the project's own TypeScript (cached on disk by
// path, size and mtime, so later children start faster).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
let ts = null;
const cacheDir = path.join(tmpdir(), 'lotgate-test-ts-cache');
mkdirSync(cacheDir, { recursive: true });

export async function resolve(specifier, context, next) {
  if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const url = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
    // Passed on (not short-circuited) so that hooks registered before these see the .ts URL too
    // (test/setup/pg-child-hooks.mjs in `npm run test:postgres`).
    if (existsSync(fileURLToPath(url))) return next(url.href, context);
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  const st = statSync(file);
  const cached = path.join(cacheDir, `${createHash('sha1').update(`${file}\0${st.size}\0${st.mtimeMs}`).digest('hex')}.js`);
  const hit = await readFile(cached, 'utf8').catch(() => null);
  if (hit !== null) return { format: 'module', source: hit, shortCircuit: true };
  ts ??= require('typescript');
  const out = ts.transpileModule(await readFile(file, 'utf8'), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
  });
  const tmp = `${cached}.${process.pid}.tmp`;
  await writeFile(tmp, out.outputText).then(() => rename(tmp, cached)).catch(() => undefined);
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
