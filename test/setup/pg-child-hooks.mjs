// Module hooks of pg-child.mjs: every import of the store's open-db module (compiled .js, or .ts
// run through test/scheduler/helpers/ts-register.mjs) is answered by a wrapper around it whose
// openDb opens the PostgreSQL database standing in for a SQLite file (pg-name.mjs).
const WRAP = 'lotgate-pg-wrap:';
const NAME = new URL('./pg-name.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const r = await nextResolve(specifier, context);
  if (/\/pipeline\/store\/open-db\.(js|ts)$/.test(r.url) && !context.parentURL?.startsWith(WRAP)) return { url: `${WRAP}${r.url}?wrapped`, shortCircuit: true };
  return r;
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith(WRAP)) return nextLoad(url, context);
  const real = JSON.stringify(url.slice(WRAP.length, -'?wrapped'.length));
  const source = `
import * as real from ${real};
import { databaseFor, isSqliteFile } from ${JSON.stringify(NAME)};
export * from ${real};
export async function openDb(url, opts) {
  if (!isSqliteFile(url)) return real.openDb(url, opts);
  return real.openDb(await databaseFor(real.sqlitePath(url)), opts);
}
`;
  return { format: 'module', source, shortCircuit: true };
}
