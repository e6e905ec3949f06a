// The JSON Schema of a mapping file (draft-07: the dialect editors' YAML support handles best).
// One builder makes both the schema the loader enforces (kind-agnostic: the loader's own checks
// then explain unknown canonical fields better than a schema can) and the published
// mappings/schema.json, which adds per-`emit` field names, enums and descriptions so editors
// autocomplete canonical fields and map targets. test/mapping checks the file is up to date.

import { RECORD_KINDS, type FieldDef } from '../model/records.js';
import { ID_SCHEMES, type RecordKind } from '../model/types.js';
import { RESULT_FIELD, SPEC_FIELD } from './field-types.js';
import { SPLIT_KIND_PATTERN } from './split.js';

type Schema = Record<string, unknown>;

const KIND_DESCRIPTIONS: Record<RecordKind, string> = {
  material: 'Material master data (ERP).',
  purchase_order: 'A purchase order line / planned receipt (ERP).',
  lot: 'A lot master record (ERP) or a CMO batch header.',
  lot_identifier: 'An explicit cross-reference: the lot also has identifier scheme:value.',
  stage_event: 'A manufacturing stage started/completed/on hold/aborted for a lot.',
  test_result: 'One test result for a lot (one per analyte; use `each` for wide rows).',
  document: 'A document about a lot (CoA, batch record, …).',
  deviation: 'A deviation (QMS or partner) affecting a lot.',
  disposition: 'A QA disposition decision for a lot.',
};

const SCALAR = ['string', 'number', 'boolean'];
const stringOrList = (description: string): Schema => ({
  description,
  type: ['string', 'array'],
  minLength: 1,
  items: { type: 'string', minLength: 1 },
  minItems: 1,
});

const conditionSchema: Schema = {
  type: 'object',
  description: 'A row condition. Give `field` and exactly one test: equals, in, notIn, matches or present.',
  additionalProperties: false,
  required: ['field'],
  properties: {
    field: {
      type: 'string',
      minLength: 1,
      description: 'Source to test (same syntax as a field\'s `from`: header text, XML path, $file, $each, $eachColumn), or "=name" for a canonical field already mapped in this record (only in `when`).',
    },
    equals: { type: 'string', description: 'The value equals this text (after trimming).' },
    in: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'The value is one of these.' },
    notIn: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'The value is none of these (an absent value counts as not in the list).' },
    matches: { type: 'string', minLength: 1, description: 'The value matches this regular expression (JavaScript syntax).' },
    present: { type: 'boolean', description: 'true: the value is present (not empty, not a missing marker); false: it is absent.' },
  },
};

const fieldSchema: Schema = {
  type: 'object',
  description: 'How one canonical field (or an identifier cross-reference with `xref`) gets its value.',
  additionalProperties: false,
  properties: {
    from: {
      anyOf: [
        stringOrList(
      'Where the value comes from. CSV: header text; several spellings allowed, the first one present in the file wins (compared ignoring case, spaces around and repeated spaces). XML: path relative to the record element by local name, "@attr" for attributes, "a/b/@c", "." for the element\'s own text. Special: "$file" (file name), "$line" (line number), "$each" (value of the current `each` column), "$eachColumn" (its header text), "$eachMatch" (the capture group of a `columns` pattern); XML with each path: "$each/child", "$each/@attr" read the current element. XML paths may use namespace prefixes (see xml.namespaces) and attribute predicates: "bizTransaction[@type=\'urn:epcglobal:cbv:btt:po\']".',
    ),
        { $ref: '#/definitions/fromRef' },
      ],
    },
    template: { type: 'string', minLength: 1, description: 'The value put together from several columns: "{Date} {Time}" = the value of column Date, a space, the value of column Time ({$file}, {$line} work too; {{ and }} are literal braces). An empty placeholder makes the value empty. Instead of `from`.' },
    split: {
      type: 'string',
      pattern: SPLIT_KIND_PATTERN,
      description: 'Take one part of a compound value (after extract, before map and typing): "number" / "unit" of "12,5 mg/kg"; "gs1:01", "gs1:10", "gs1:17", "gs1:21" … one AI of a GS1 element string "(01)09506000134352(17)261231(10)AB-12" (dates come out as yyyy-MM-dd); "sgtin:gtin" / "sgtin:serial" of "urn:epc:id:sgtin:0614141.107346.2017"; "sscc" (18 digits of "urn:epc:id:sscc:…"). Not of that shape = E_SPLIT.',
      examples: ['number', 'unit', 'gs1:01', 'gs1:10', 'gs1:17', 'sgtin:gtin', 'sgtin:serial', 'sscc'],
    },
    const: { type: SCALAR, description: 'A constant value, in canonical form (no source).' },
    default: { type: SCALAR, description: 'Used when the source is absent, empty or a missing marker. In canonical form: numbers with ".", dates YYYY-MM-DD, datetimes ISO-8601.' },
    type: {
      enum: ['string', 'decimal', 'integer', 'date', 'datetime', 'boolean', 'result', 'list', 'spec'],
      description: 'Value type. Default: what the canonical field needs (string for identifiers: "00123" stays "00123"). result = lab result text split into resultRaw/resultValue/qualifier ("<0.05", "ND", "<LOQ"); list = split by `separator`; spec = specification text split into specLow/specHigh/specText (the test_result field named spec).',
    },
    format: stringOrList('Date/datetime pattern(s) in Luxon tokens, tried in order: "dd.MM.yyyy", "M/d/yy h:mm a", "yyyy-MM-dd\'T\'HH:mm:ssZZ"; "iso" = ISO-8601 (the default).'),
    tz: { type: 'string', minLength: 1, description: 'IANA time zone for datetimes without an offset, e.g. Europe/Berlin, America/New_York (default UTC).' },
    locale: { type: 'string', minLength: 2, description: 'Locale for month/weekday names and AM/PM in `format` (default en-US), e.g. de-DE.' },
    map: {
      type: 'object',
      description: 'Value map: code as sent → canonical value (null = treat as missing). Codes match after trimming, case-sensitively unless mapCaseInsensitive.',
      additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
    },
    mapCaseInsensitive: { type: 'boolean', description: 'Match `map` codes ignoring case.' },
    unmapped: {
      enum: ['error', 'keep', 'null', 'skip'],
      description: 'A code not in `map`: error = reject the record (E_UNMAPPED_CODE, default); keep = pass it through; null = treat as missing; skip = drop the record silently (counted as filtered).',
    },
    missing: { type: 'array', items: { type: 'string' }, description: 'Missing-value markers for this field, on top of the file-level `missing` (compared ignoring case).' },
    required: { type: 'boolean', description: 'Reject the record (E_REQUIRED) when the value is absent and there is no default. Canonically required fields are always required.' },
    plausible: { $ref: '#/definitions/plausible' },
    optional: { type: 'boolean', description: 'CSV: the column may be absent from a file\'s header; the field then stays empty (or takes its default). Without it, a column named in `from` that is not in the header rejects the file (E_MISSING_COLUMN).' },
    xref: { enum: [...ID_SCHEMES], description: 'This field is an identifier of the lot in this scheme; it goes to the record\'s identifiers, not its fields. Such fields may have any name.' },
    extract: { type: 'string', minLength: 1, description: 'Regular expression with one capture group applied to the value before typing, e.g. "^COA_(.+)_v\\\\d+\\\\.pdf$". No match = E_EXTRACT. A named group "value" wins over the first group.' },
    separator: { type: 'string', minLength: 1, description: 'For type list: separator (default ",").' },
    decimal: { enum: ['.', ','], description: 'Decimal separator for this field, overriding the dialect.' },
    qualifiers: {
      type: 'object',
      description: 'The result field: the lab\'s own words on top of the built-in ones (ND, n.d., not detected, <LOD, <LOQ, BLQ, BLOQ, …). Word as sent (compared ignoring case and spaces) → ND or <LOQ (a qualifier, alone or before its limit: "nicht nachweisbar (<0,01)"), <, >, <=, >= (an operator word before a number: "kleiner 0,05"), or conforms / does not conform / positive / negative (a qualitative result, stored as that word so readiness can judge it).',
      additionalProperties: { enum: ['ND', '<LOQ', '<', '>', '<=', '>=', 'conforms', 'does not conform', 'positive', 'negative'] },
      examples: [{ 'nicht nachweisbar': 'ND', '< BG': '<LOQ', entspricht: 'conforms' }],
    },
    sequence: {
      type: 'boolean',
      const: true,
      description: 'test_result.replicate: number repeated measurements of the same test (same lot, test, sample and time) in file order, 1, 2, 3 …, so they are all kept instead of the last one overwriting the others. Instead of `from`.',
    },
  },
};

const fromRefSchema: Schema = {
  type: 'object',
  description: 'A CSV cell addressed by something other than its header text: { block: "Sample ID:" } (the cell right of a label in the lines above the header; below: true = under it), { column: 3 }, { header: "Units", occurrence: 2 }, { rightOf: "Result", offset: 1 }.',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    block: { type: 'string', minLength: 1, description: 'Label of a key/value header block in the lines above the header row (compared ignoring case, spaces and a trailing ":"); the value is the cell right of it, the same for every row. Needs dialect.headerRow > 1.' },
    below: { type: 'boolean', description: 'With block: the value is under the label (the next line, same column), not right of it.' },
    column: { type: 'integer', minimum: 1, description: '1-based column position, whatever its header says (also for empty header cells).' },
    header: { type: 'string', description: 'Header text of a repeated column (with occurrence); "" = an empty header cell.' },
    occurrence: { type: 'integer', minimum: 1, description: 'With header: the nth column with that header (default 1).' },
    rightOf: { type: 'string', minLength: 1, description: 'Header text of a neighbour: the value is `offset` columns right of it.' },
    offset: { type: 'integer', description: 'With rightOf: columns to the right (default 1, negative = left). With block: cells right of (or lines below) the label (default 1).' },
  },
};

const plausibleSchema: Schema = {
  type: 'object',
  description:
    'Which dates are plausible; others reject the row with E_IMPLAUSIBLE_DATE (e.g. day and month swapped by a wrong pattern). Defaults: not before 2000-01-01; at most 7 days in the future, except expiryDate, plannedDate and confirmedDate (no future limit).',
  additionalProperties: false,
  properties: {
    maxFutureDays: { type: ['number', 'null'], minimum: 0, description: 'Days after the time the file is mapped that a value may lie; null = no limit.' },
    notBefore: { type: ['string', 'integer'], pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Earliest plausible date: YYYY-MM-DD or a year, e.g. 2015.' },
  },
};

const eachSchema: Schema = {
  type: 'object',
  description: 'One wide column: the record is produced once per listed column that has a value.',
  additionalProperties: false,
  properties: {
    column: stringOrList('Header text of the column (several spellings allowed). For XML: a path relative to the record.'),
    columns: { type: 'string', minLength: 1, description: 'CSV: every column whose header matches this regular expression, e.g. "^(.+) \\(%\\)$"; $eachMatch reads the first capture group (a test code), $eachColumn the header. New analytes are picked up without a mapping change.' },
    allExcept: { type: 'array', items: { type: 'string' }, description: 'CSV: every column except these headers and those the mapping reads elsewhere (fields, conditions, ignoreColumns); $eachColumn / $eachMatch read the header.' },
    path: { type: 'string', minLength: 1, description: 'XML: one record per element at this path (relative to the record), e.g. "epcList/epc" or "extension/quantityList/quantityElement". Fields read the element with $each (its text), "$each/child" or "$each/@attr"; other paths read the record (the parent event), so its fields are copied into each record. Records carry the line of their element.' },
    join: { type: 'string', minLength: 1, description: 'XML: one record per value the named join (see joins) resolves the keys at `key` to, e.g. the lots packed on the pallet a shipping event names; $each reads the value. A key that resolves to nothing is E_JOIN_UNRESOLVED.' },
    key: stringOrList('XML, with join: path(s) of the keys in the record, e.g. ["epcList/epc", "parentID", "childEPCs/epc"].'),
    set: { type: 'object', description: 'Constant canonical fields for the record made from this column, e.g. { testCode: ASSAY, unit: "%" }.', additionalProperties: { type: SCALAR } },
    optional: { type: 'boolean', description: 'CSV: the column may be absent from a file\'s header (otherwise E_MISSING_COLUMN).' },
  },
};

const recordSchema: Schema = {
  type: 'object',
  description: 'One kind of record produced from each row (a row can produce several).',
  additionalProperties: false,
  required: ['emit', 'fields'],
  properties: {
    emit: {
      enum: Object.keys(RECORD_KINDS),
      description: 'The canonical record kind. ' + Object.entries(KIND_DESCRIPTIONS).map(([k, d]) => `${k}: ${d}`).join(' '),
    },
    when: { type: 'array', items: { $ref: '#/definitions/condition' }, description: 'Only rows matching all conditions produce this record.' },
    each: { type: 'array', items: { $ref: '#/definitions/each' }, minItems: 1, description: 'Wide to long: one record per listed column that has a value; fields read it with from: $each.' },
    fields: { type: 'object', minProperties: 1, description: 'Canonical field name → how to fill it.', additionalProperties: { $ref: '#/definitions/field' } },
  },
};

const dialectSchema: Schema = {
  type: 'object',
  description: 'The CSV dialect, declared, never guessed.',
  additionalProperties: false,
  properties: {
    delimiter: { type: 'string', minLength: 1, description: 'Field delimiter (default ","), e.g. ";" or "\\t".' },
    quote: { type: ['string', 'null'], maxLength: 1, description: 'Quote character (default \'"\'); null or "" = no quoting.' },
    escape: { type: 'string', maxLength: 1, description: 'Escape character inside quotes (default: the quote itself).' },
    encoding: {
      enum: ['utf-8', 'utf8', 'windows-1252', 'cp1252', 'latin1', 'iso-8859-1', 'utf-16le', 'utf-16be', 'utf-16'],
      description: 'Text encoding (default utf-8). utf-16 = byte order mark decides.',
    },
    headerRow: { type: 'integer', minimum: 0, description: '1-based line of the header row; lines above are preamble (default 1). 0 = no header, columns are named "1", "2", …' },
    comment: { type: 'string', minLength: 1, description: 'Lines starting with this are comments and skipped.' },
    decimal: { enum: ['.', ','], description: 'Decimal separator of numbers (default ".").' },
    thousands: { enum: ['', '.', ',', ' ', "'", '\u00a0', '\u202f'], description: 'Thousands separator stripped from numbers (default none).' },
    trim: { type: 'boolean', description: 'Trim spaces around values (default true).' },
    skipEmptyRows: { type: 'boolean', description: 'Skip rows whose values are all empty (default true).' },
  },
};

export interface MappingSchemaOptions {
  /** Add per-kind canonical field names, enums and descriptions (the published editor schema). */
  editor?: boolean;
}

function fieldTypeText(def: FieldDef): string {
  const t = def.type === 'string[]' ? 'list of strings' : def.type;
  return `${t}${def.required ? ', required' : ''}${def.enum ? `: ${def.enum.join(' | ')}` : ''}`;
}

function canonicalFieldSchema(kind: RecordKind, name: string, def: FieldDef): Schema {
  const extra: Schema = { type: 'object' };
  if (def.enum !== undefined) {
    extra.properties = {
      map: { type: 'object', additionalProperties: { enum: [...def.enum, null] } },
      const: { enum: [...def.enum] },
      default: { enum: [...def.enum] },
    };
  }
  return { description: `${kind}.${name} (${fieldTypeText(def)})`, allOf: [{ $ref: '#/definitions/field' }, extra] };
}

function kindBranch(kind: RecordKind): Schema {
  const defs = RECORD_KINDS[kind].fields;
  const fields: Schema = {};
  const set: Schema = {};
  for (const [name, def] of Object.entries(defs)) {
    fields[name] = canonicalFieldSchema(kind, name, def);
    set[name] = def.enum ? { enum: [...def.enum], description: `${kind}.${name}` } : { type: SCALAR, description: `${kind}.${name} (${fieldTypeText(def)})` };
  }
  if (kind === 'test_result') {
    fields[RESULT_FIELD] = {
      description: 'test_result.result: the result as sent ("<0.05", "ND", "<LOQ", "99,8", "Complies"); split into resultRaw, resultValue and qualifier.',
      allOf: [{ $ref: '#/definitions/field' }],
    };
    fields[SPEC_FIELD] = {
      description: 'test_result.spec: the specification as written ("NMT 0.5 %", "≤ 20", "NLT 98.0", "95.0 - 105.0", "80–120 %", "Report"); split into specLow, specHigh, specText (always the text as sent) and unit (when stated and no unit column gives one). Unreadable limits = E_BAD_SPEC.',
      allOf: [{ $ref: '#/definitions/field' }],
    };
  }
  return {
    if: { properties: { emit: { const: kind } }, required: ['emit'] },
    then: {
      properties: {
        fields: {
          type: 'object',
          properties: fields,
          additionalProperties: {
            description: 'Not a canonical field of this kind: only identifier cross-references (with `xref`) may use other names.',
            allOf: [{ $ref: '#/definitions/field' }, { type: 'object', required: ['xref'], properties: { xref: { enum: [...ID_SCHEMES] } } }],
          },
        },
        each: { type: 'array', items: { type: 'object', properties: { set: { type: 'object', properties: set, additionalProperties: false } } } },
      },
    },
  };
}

export function buildMappingSchema(opts: MappingSchemaOptions = {}): Schema {
  const record: Schema = opts.editor ? { ...recordSchema, allOf: (Object.keys(RECORD_KINDS) as RecordKind[]).map(kindBranch) } : recordSchema;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'lotgate mapping file',
    description: 'How one partner feed (mappings/<partner>/<feed>.yaml) becomes canonical lot records.',
    type: 'object',
    additionalProperties: false,
    required: ['partner', 'feed', 'match', 'records'],
    properties: {
      partner: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Partner id; must equal the folder name under mappings/.' },
      feed: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Feed name; must equal this file\'s name without .yaml.' },
      version: { type: ['string', 'number'], description: 'Free-form version label an analyst bumps; the content hash is stamped on every record too.' },
      description: { type: 'string', description: 'What this feed is, for the next analyst.' },
      format: { enum: ['csv', 'xml', 'document', 'xlsx', 'fixed'], default: 'csv', description: 'csv (default), xml, xlsx (an Excel workbook, one sheet read like a CSV file: same dialect.headerRow, fields, blocks, sections), fixed (fixed-width text: columns at declared character positions, see `fixed`), or document (a file taken as a whole, e.g. a PDF certificate; fields come from $file).' },
      fixed: {
        type: 'object',
        additionalProperties: false,
        required: ['columns'],
        description: 'format fixed: the layout of a fixed-width text export. Each data line is cut into the declared columns (1-based character positions after decoding with dialect.encoding); fields read them by name like CSV headers. dialect.decimal, thousands and skipEmptyRows apply.',
        properties: {
          columns: {
            type: 'array',
            minItems: 1,
            description: 'The columns, e.g. [{ name: LOT, start: 1, width: 10 }, { name: QTY, start: 11, end: 19 }].',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'start'],
              properties: {
                name: { type: 'string', minLength: 1, description: 'The name fields read with `from`.' },
                start: { type: 'integer', minimum: 1, description: '1-based position of the first character.' },
                end: { type: 'integer', minimum: 1, description: '1-based position of the last character (inclusive). Give end or width.' },
                width: { type: 'integer', minimum: 1, description: 'Number of characters. Give end or width.' },
              },
            },
          },
          skip: { type: 'integer', minimum: 0, description: 'Lines at the top that are not data (report titles, column headings, a header record). Default 0.' },
          trailer: { type: 'string', minLength: 1, description: 'Regular expression for trailer/control lines, e.g. "^TRL": not rows. A data line after it is an error (E_FIXED_AFTER_TRAILER).' },
          trailerCount: {
            type: 'object',
            additionalProperties: false,
            required: ['start'],
            description: 'Where the trailer holds the number of data lines; a mismatch rejects the file (E_FIXED_TRAILER_COUNT).',
            properties: { start: { type: 'integer', minimum: 1 }, end: { type: 'integer', minimum: 1 }, width: { type: 'integer', minimum: 1 } },
          },
          trailerRequired: { type: 'boolean', description: 'A file without a trailer line was cut off: reject it (E_FIXED_TRAILER_COUNT). Default false.' },
          overlong: { enum: ['error', 'ignore'], description: 'Text after the last column: error (default, E_FIXED_LONG_LINE: the columns have probably shifted) or ignore.' },
        },
      },
      xlsx: {
        type: 'object',
        additionalProperties: false,
        description: 'format xlsx: which sheet. Numbers arrive as numbers ("12.5", never as displayed), date-formatted cells as yyyy-MM-dd or yyyy-MM-ddTHH:mm:ss (both Excel date systems), formulas as their cached result.',
        properties: {
          sheet: { type: ['string', 'integer'], description: 'Sheet name (case-insensitive; a hidden sheet only by name) or 1-based number among the visible sheets. Default: the first visible sheet.' },
          headerRows: { type: 'integer', minimum: 1, maximum: 5, default: 1, description: 'How many rows the header takes, from dialect.headerRow down (default 1). With 2, the rows are joined per column: "Assay" (merged over two columns) above "Result" and "Units" gives "Assay Result" and "Assay Units". A merged cell always gives its value to every cell it covers.' },
        },
      },
      match: stringOrList('File-name glob(s) this feed accepts, case-insensitive, e.g. "batch_status_*.csv".'),
      dialect: { $ref: '#/definitions/dialect' },
      xml: {
        type: 'object',
        description: 'XML options (format: xml).',
        additionalProperties: false,
        required: ['record'],
        properties: {
          record: { type: 'string', minLength: 1, description: 'Path of the record elements from the document root by local name, e.g. "EPCISDocument/EPCISBody/EventList/ObjectEvent"; "*" = any element, "a|b" = either.' },
          namespaces: {
            type: 'object',
            additionalProperties: { type: 'string', minLength: 1 },
            description: 'Prefixes the mapping\'s paths use, bound to namespace URIs, e.g. { epcis: "urn:epcglobal:epcis:xsd:1" }: "epcis:EPCISDocument" then matches that element whatever prefix the partner writes. An undeclared prefix matches the prefix as the document writes it; no prefix (or "*:name") matches any namespace.',
          },
        },
      },
      joins: {
        type: 'object',
        description: 'XML: lookups built in a first pass over the document, used by each: [{ join, key }]. E.g. { lot: { records: ObjectEvent, key: epcList/epc, value: extension/ilmd/lotNumber, contains: { records: AggregationEvent, parent: parentID, children: childEPCs/epc } } }.',
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['key', 'value'],
          properties: {
            records: { type: 'string', minLength: 1, description: 'Record elements (local names, "a|b") that give key → value; default every record.' },
            key: stringOrList('Path(s) of the keys in such a record, e.g. "epcList/epc" (every element there is a key).'),
            value: { type: 'string', minLength: 1, description: 'Path of the value, e.g. "extension/ilmd/lotNumber".' },
            contains: {
              type: 'object',
              additionalProperties: false,
              required: ['parent', 'children'],
              description: 'Containment, searched recursively: a pallet holds cases, a case holds items.',
              properties: {
                records: { type: 'string', minLength: 1, description: 'Record elements that state containment, e.g. "AggregationEvent"; default every record.' },
                parent: { type: 'string', minLength: 1, description: 'Path of the container\'s key, e.g. "parentID".' },
                children: stringOrList('Path(s) of the contained keys, e.g. "childEPCs/epc".'),
              },
            },
            maxEntries: { type: 'integer', minimum: 1, description: 'Most entries (key → value pairs plus containment links) the index may hold; more rejects the file (E_JOIN_INDEX_LIMIT). Default 1000000.' },
          },
        },
      },
      missing: { type: 'array', items: { type: 'string' }, description: 'File-level missing-value markers, e.g. ["n.a.", "-"] (the empty string always counts as missing; compared ignoring case).' },
      filter: { type: 'array', items: { $ref: '#/definitions/condition' }, description: 'Rows not matching all conditions are skipped (counted as filtered, not errors).' },
      plausibleDates: { $ref: '#/definitions/plausible' },
      records: { type: 'array', minItems: 1, items: { $ref: '#/definitions/record' }, description: 'The records each row produces.' },
      sections: {
        type: 'object',
        additionalProperties: false,
        required: ['header'],
        description: 'CSV: several tables in one file, each with its own key/value block and header row. A row with a cell equal to `header` starts a table; a blank line or a line whose first cell matches `end` ends it; the lines between tables are the next section\'s block (block values carry down). dialect.headerRow is not used.',
        properties: {
          header: { type: 'string', minLength: 1, description: 'Text of a header cell that marks a header row, e.g. "Analyte".' },
          end: { type: 'string', minLength: 1, description: 'Regular expression on the first non-empty cell of a line that ends a table, e.g. "^(End of table|-{3,})".' },
        },
      },
      grid: {
        type: 'object',
        additionalProperties: false,
        required: ['values'],
        description: 'CSV/xlsx: plate-reader grids. A grid of values by row letter (A, B, …) × column number (1, 2, …) under a marker line becomes one record per well; a second grid or a table names the sample in each well. Fields read $value, $well ("A1"), $row ("A"), $column ("1"), $sample, $grid (the values marker\'s text), $plate, and key/value blocks (from: { block }) in the lines around the grids. Empty wells are counted as filtered; a well with a value and no sample is E_GRID_NO_SAMPLE.',
        properties: {
          values: {
            type: 'object',
            additionalProperties: false,
            required: ['after'],
            description: 'Where a grid of values is: under each line whose first non-empty cell matches `after`.',
            properties: { after: { type: 'string', minLength: 1, description: 'Regular expression on the first non-empty cell of the marker line, e.g. "^Results$" or "^Absorbance". The header of column numbers is the marker line itself (when its other cells are 1, 2, 3 …) or the next non-blank line.' } },
          },
          samples: {
            description: 'What names the sample in each well: { after: "^Layout" } (a grid like the values grid) or { table: "^Samples", well: "Well", sample: "Sample" } (a table with a well column: A1, A01).',
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              after: { type: 'string', minLength: 1, description: 'A layout grid: regular expression on the first cell of the line above it.' },
              table: { type: 'string', minLength: 1, description: 'A sample table: regular expression on the first cell of the line above it; its header is the next non-blank line, it ends at a blank line. Instead of after.' },
              well: { type: 'string', minLength: 1, description: 'With table: header of the well column (default "Well"; wells written A1, A01, a 1).' },
              sample: { type: 'string', minLength: 1, description: 'With table: header of the sample column (default "Sample").' },
            },
          },
          plate: { type: 'string', minLength: 1, description: 'Regular expression on the first cell of a line that starts a plate ($plate reads that cell). A plate\'s grids pair with its layout; a plate without one uses the previous plate\'s. Default: each values grid with the layout next to it is a plate.' },
        },
      },
      ignoreColumns: { type: 'array', items: { type: 'string' }, description: 'CSV: headers of columns deliberately not read; they are not reported as unclaimed and an allExcept each skips them.' },
      unclaimedColumns: { enum: ['warn', 'ignore'], description: 'CSV: report columns that nothing reads (W_UNCLAIMED_COLUMN, in mapping test and the ack). Default: warn when a record has an open-ended each (columns / allExcept), else ignore.' },
      tests: {
        type: 'array',
        description: 'Sample files and their expected canonical output, run by `lotgate mapping test`.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['input', 'expect'],
          properties: {
            input: { type: 'string', minLength: 1, description: 'Sample partner file.' },
            expect: { type: 'string', minLength: 1, description: 'Expected output (JSON).' },
          },
        },
      },
    },
    definitions: { fromRef: fromRefSchema, dialect: dialectSchema, condition: conditionSchema, each: eachSchema, field: fieldSchema, record, plausible: plausibleSchema },
  };
}

/** The text of mappings/schema.json. */
export function mappingSchemaFileText(): string {
  return JSON.stringify(buildMappingSchema({ editor: true }), null, 2) + '\n';
}
