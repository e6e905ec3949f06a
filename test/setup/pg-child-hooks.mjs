// Module hook of pg-child.mjs: the compiled open-db.js is served as a wrapper around itself.
const NAME = new URL('./pg-name.mjs', import.meta.url).href;

export async function load(url, context, nextLoad) {
  if (!/\/pipeline\/store\/open-db\.js$/.test(url)) return nextLoad(url, context);
  const real = JSON.stringify(`${url}?real`);
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
