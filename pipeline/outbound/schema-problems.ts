// ajv errors as config problems with readable paths (`connectors[0].auth.tokenEnv`).

import type { ErrorObject } from 'ajv';
import type { ConfigProblem } from './errors.js';

/**
 * `tagValues` lists the values a discriminator (`type`) accepts, keyed by the name of the
 * nearest non-index segment of the path (`auth`, `channels`; '' at the root of a list).
 */
export function schemaProblem(e: ErrorObject, where: string, tagValues: Record<string, string[]> = {}): ConfigProblem {
  const parts = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let p = where;
  for (const part of parts) p += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
  const owner = [...parts].reverse().find((part) => !/^\d+$/.test(part)) ?? '';
  const params = e.params as Record<string, unknown>;
  let message: string;
  switch (e.keyword) {
    case 'additionalProperties':
      message = `unknown key "${String(params.additionalProperty)}"`;
      break;
    case 'required':
      message = `missing required key "${String(params.missingProperty)}"`;
      break;
    case 'enum':
      message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'discriminator':
      message =
        params.error === 'mapping'
          ? `${String(params.tag)} must be one of ${(tagValues[owner] ?? []).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(params.tagValue)}`
          : `missing or invalid "${String(params.tag)}"`;
      break;
    default:
      message = e.message ?? e.keyword;
  }
  return { code: 'E_CONFIG_INVALID', path: p, message };
}
