// Loading a mapping file: YAML with positions → JSON Schema validation → semantic checks →
// the normalized MappingSpec. Every problem comes back as a located Diagnostic; a spec is
// returned only when there is no error (warnings are fine).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Diagnostic, Severity } from './diagnostics.js';
import { hasErrors, sortDiagnostics } from './diagnostics.js';
import { effectiveType, isRecordKind } from './field-types.js';
import { buildMappingSchema } from './schema.js';
import { checkMappingSemantics, type CheckReport } from './semantic-check.js';
import type { FieldSpec, FieldValueType, MappingSpec } from './spec.js';
import { didYouMean } from './suggest.js';
import { escapePointer, readYaml, type YamlSource } from './yaml-source.js';
import type { ProblemCode } from '../codes.js';

export { formatDiagnostic, hasErrors, type Diagnostic } from './diagnostics.js';

export interface LoadedMapping {
  /** Present only when the file has no errors. */
  spec?: MappingSpec;
  /** sha256 (hex) of the file's bytes: stamped on everything the mapping produces. */
  hash: string;
  /** "<partner folder>/<file name without extension>", e.g. "acme-cmo/batch-status". */
  name: string;
  diagnostics: Diagnostic[];
  /**
   * The file-name globs as written, read even when the file has errors, so a file meant for a
   * broken mapping can be told "this feed's mapping is broken" rather than "no feed matches".
   */
  match?: string[];
}

export interface LoadOptions {
  /** Check that `partner`/`feed` match the folder and file name (default true). Off for drafts outside mappings/. */
  checkLocation?: boolean;
}

export function loadMapping(path: string, opts: LoadOptions = {}): LoadedMapping {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      hash: '',
      name: mappingName(path),
      diagnostics: [{ file: path, line: 1, col: 1, severity: 'error', code: 'E_READ', message: `cannot read mapping file: ${err.code ?? err.message}` }],
    };
  }
  return parseMappingBytes(bytes, path, opts);
}

export function parseMappingText(text: string, path: string, opts: LoadOptions = {}): LoadedMapping {
  return parseMappingBytes(Buffer.from(text, 'utf8'), path, opts);
}

/** "<partner folder>/<feed>" for a mapping path. */
export function mappingName(path: string): string {
  const folder = basename(dirname(path));
  const file = basename(path, extname(path));
  return folder === '.' || folder === '' ? file : `${folder}/${file}`;
}

function parseMappingBytes(bytes: Buffer, path: string, opts: LoadOptions): LoadedMapping {
  const hash = createHash('sha256').update(bytes).digest('hex');
  const name = mappingName(path);
  const diagnostics: Diagnostic[] = [];
  const at = (line: number, col: number, severity: Severity, code: ProblemCode, message: string): void => {
    diagnostics.push({ file: path, line, col, severity, code, message });
  };

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    at(1, 1, 'error', 'E_ENCODING', 'mapping file is not valid UTF-8; save it as UTF-8');
    return { hash, name, diagnostics };
  }
  if (text.charCodeAt(0) === 0xfeff) text = ' ' + text.slice(1); // keep offsets: the BOM becomes a blank
  if (text.trim() === '') {
    at(1, 1, 'error', 'E_EMPTY', 'mapping file is empty');
    return { hash, name, diagnostics };
  }

  const src = readYaml(text);
  for (const prob of src.problems) {
    const pos = src.position(prob.offset);
    at(pos.line, pos.col, prob.severity, prob.code, prob.message);
  }
  if (src.value === undefined) return { hash, name, diagnostics: sortDiagnostics(diagnostics) };
  const match = globsOf(src.value);

  const report: CheckReport = (ptr, part, severity, code, message) => {
    const pos = locate(src, ptr, part);
    at(pos.line, pos.col, severity, code, message);
  };

  const validate = mappingValidator();
  if (!validate(src.value)) {
    for (const err of pruneErrors(validate.errors ?? [])) schemaDiagnostic(err, report);
  }

  const isExpectedLocation = opts.checkLocation !== false && /\.ya?ml$/i.test(path);
  const folder = basename(dirname(path));
  checkMappingSemantics(src.value, {
    report,
    sourceText: src.sourceText,
    expectedPartner: isExpectedLocation && folder !== '.' && folder !== '' ? folder : undefined,
    expectedFeed: isExpectedLocation ? basename(path, extname(path)) : undefined,
  });

  sortDiagnostics(diagnostics);
  if (hasErrors(diagnostics)) return { hash, name, diagnostics, match };
  const spec = normalize(src.value as MappingSpec, src);
  return { spec, hash, name, diagnostics, match: spec.match };
}

function globsOf(value: unknown): string[] | undefined {
  const m = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).match : undefined;
  if (typeof m === 'string') return [m];
  if (Array.isArray(m)) return m.filter((x): x is string => typeof x === 'string');
  return undefined;
}

/** Line and column of the key or value at a JSON pointer (or of its nearest existing parent). */
function locate(src: YamlSource, ptr: string, part: 'key' | 'value'): { line: number; col: number } {
  let cur = ptr;
  for (;;) {
    const loc = src.locs.get(cur);
    const range = loc && (part === 'key' ? (loc.key ?? loc.value) : (loc.value ?? loc.key));
    if (range) return src.position(range[0]);
    if (cur === '') return { line: 1, col: 1 };
    cur = cur.slice(0, cur.lastIndexOf('/'));
    part = 'key';
  }
}

// The compiled schema is a pure function of a constant; building it once per process is a cache,
// not shared mutable state.
let compiled: ValidateFunction | undefined;
function mappingValidator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    compiled = ajv.compile(buildMappingSchema());
  }
  return compiled;
}

/** Drops errors that only restate another one (a failed `if`, a `type` error under an unknown key). */
function pruneErrors(errors: ErrorObject[]): ErrorObject[] {
  return errors.filter((e) => e.keyword !== 'if');
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text', number: 'a number', integer: 'a whole number', boolean: 'true or false', array: 'a list', object: 'a mapping of keys', null: 'empty',
};

function typeOf(v: unknown): string {
  if (v === null) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping of keys';
  if (typeof v === 'string') return `text "${v}"`;
  return `${typeof v} ${String(v)}`;
}

/** records/0/fields/stage → records[0].fields.stage, for messages. */
function humanPath(ptr: string): string {
  if (ptr === '') return 'the mapping';
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc === '' ? s : `${acc}.${s}`), '');
}

function schemaDiagnostic(err: ErrorObject, report: CheckReport): void {
  const where = humanPath(err.instancePath);
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(((err.parentSchema as Record<string, unknown> | undefined)?.properties as object) ?? {});
      const ptr = `${err.instancePath}/${escapePointer(key)}`;
      report(ptr, 'key', 'error', 'E_UNKNOWN_KEY', `unknown key '${key}' in ${where}${didYouMean(key, allowed)}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`);
      return;
    }
    case 'required': {
      report(err.instancePath, 'key', 'error', 'E_MISSING_KEY', `${where} is missing required key '${String(params.missingProperty)}'`);
      return;
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const got = err.data;
      report(err.instancePath, 'value', 'error', 'E_BAD_VALUE', `${where} must be one of: ${allowed.join(', ')}; got ${typeOf(got)}${typeof got === 'string' ? didYouMean(got, allowed) : ''}`);
      return;
    }
    case 'type': {
      const types = String(params.type).split(',').map((t) => TYPE_WORDS[t] ?? t);
      report(err.instancePath, 'value', 'error', 'E_BAD_TYPE', `${where} must be ${types.join(' or ')}; got ${typeOf(err.data)}`);
      return;
    }
    default:
      report(err.instancePath, 'value', 'error', 'E_SCHEMA', schemaMessage(err, where));
  }
}

function schemaMessage(err: ErrorObject, where: string): string {
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'minItems':
      return params.limit === 1 ? `${where} is an empty list; give at least one entry or remove the key` : `${where} needs at least ${String(params.limit)} entries`;
    case 'minProperties':
      return `${where} is empty; give at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}`;
    case 'minLength':
      return `${where} must not be empty`;
    case 'maxLength':
      return `${where} must be at most ${String(params.limit)} character${params.limit === 1 ? '' : 's'}; got "${String(err.data)}"`;
    case 'pattern':
      return `${where} "${String(err.data)}" may contain only letters, digits, ".", "_" and "-" (and must start with a letter or digit)`;
    case 'minimum':
      return `${where} must be ${String(params.limit)} or more; got ${String(err.data)}`;
    default:
      return `${where} ${err.message ?? 'is invalid'}`;
  }
}

/** Defaults and single-value shorthands filled in, constants of text fields kept as written. */
function normalize(raw: MappingSpec, src: YamlSource): MappingSpec {
  const spec: MappingSpec = { ...raw, format: raw.format ?? 'csv', match: typeof raw.match === 'string' ? [raw.match] : raw.match };
  spec.records = raw.records.map((rec, i) => {
    if (!isRecordKind(rec.emit)) return rec;
    const fields: Record<string, FieldSpec> = {};
    const base = `/records/${i}`;
    const asText = (v: unknown, ptr: string, type: FieldValueType): unknown =>
      type === 'string' && (typeof v === 'number' || typeof v === 'boolean') ? (src.sourceText.get(ptr) ?? String(v)) : v;
    for (const [name, fs] of Object.entries(rec.fields)) {
      const type = effectiveType(rec.emit, name, fs);
      const fptr = `${base}/fields/${escapePointer(name)}`;
      const out: FieldSpec = { ...fs };
      if (fs.const !== undefined) out.const = asText(fs.const, `${fptr}/const`, type) as FieldSpec['const'];
      if (fs.default !== undefined) out.default = asText(fs.default, `${fptr}/default`, type) as FieldSpec['default'];
      if (fs.map !== undefined) {
        out.map = {};
        for (const [code, target] of Object.entries(fs.map)) {
          out.map[code] = asText(target, `${fptr}/map/${escapePointer(code)}`, type) as string | number | boolean | null;
        }
      }
      fields[name] = out;
    }
    const each = rec.each?.map((e, j) => {
      if (e.set === undefined) return e;
      const set: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(e.set)) {
        const type = effectiveType(rec.emit, k, rec.fields[k] ?? {});
        set[k] = asText(v, `${base}/each/${j}/set/${escapePointer(k)}`, type) as string | number | boolean;
      }
      return { ...e, set };
    });
    return each === undefined ? { ...rec, fields } : { ...rec, fields, each };
  });
  return spec;
}
