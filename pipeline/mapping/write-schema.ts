// Writes mappings/schema.json from the schema builder: `npm run build && node dist/pipeline/mapping/write-schema.js [path]`.
// test/mapping checks the committed file matches, so the published schema cannot drift from the loader's.

import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { mappingSchemaFileText } from './schema.js';

export function writeMappingSchema(path: string): void {
  writeFileSync(path, mappingSchemaFileText());
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = process.argv[2] ?? 'mappings/schema.json';
  writeMappingSchema(target);
  console.log(`wrote ${target}`);
}
