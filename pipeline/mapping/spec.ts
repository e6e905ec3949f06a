// The shape of a mapping file (mappings/<partner>/<feed>.yaml) as the loader returns it
// after schema validation. mappings/schema.json is the JSON Schema of the same shape.
//
// Example (CSV):
//
//   partner: acme-cmo
//   feed: batch-status
//   format: csv
//   match: ["batch_status_*.csv"]
//   dialect: { delimiter: ";", encoding: windows-1252, headerRow: 3, decimal: ",", thousands: "." }
//   missing: ["n.a.", "-"]
//   records:
//     - emit: stage_event
//       fields:
//         batch:     { from: ["Batch No", "Charge"], xref: cmo_batch, required: true }
//         stage:     { from: Step, map: { MIX: compounding, FILL: filling }, unmapped: error }
//         status:    { from: Status, map: { Started: started, Done: completed, Hold: on_hold } }
//         eventTime: { from: Date, type: datetime, format: "dd.MM.yyyy HH:mm", tz: Europe/Berlin }
//   tests:
//     - { input: fixtures/acme-cmo/batch_status_sample.csv, expect: fixtures/acme-cmo/batch_status_sample.expected.json }

import type { IdScheme, RecordKind } from '../model/types.js';
import type { ResultWord } from './result-text.js';

export type MappingFormat = 'csv' | 'xml' | 'document' | 'xlsx' | 'fixed';

/** format xlsx: which sheet. dialect.headerRow, trim and skipEmptyRows apply as for CSV. */
export interface XlsxOptions {
  /** Sheet name (case-insensitive; hidden sheets only by name) or 1-based index among visible sheets. Default: the first visible sheet. */
  sheet?: string | number;
  /** Header rows joined per column (default 1): 2 reads a group row ("Assay", merged) over a label row ("Result"). */
  headerRows?: number;
}

/** One column of a fixed-width line: 1-based character positions after decoding. */
export interface FixedColumn {
  /** The column's name: what fields read with `from` (like a CSV header). */
  name: string;
  /** 1-based position of its first character. */
  start: number;
  /** 1-based position of its last character (inclusive). One of end / width. */
  end?: number;
  /** Number of characters. One of end / width. */
  width?: number;
}

/** format fixed: the column layout of a fixed-width text export. dialect.encoding, decimal, thousands, skipEmptyRows apply. */
export interface FixedOptions {
  columns: FixedColumn[];
  /** Lines at the top that are not data (titles, column headings, a header record). Default 0. */
  skip?: number;
  /** Regular expression for control lines (a trailer record), e.g. "^TRL": not rows. */
  trailer?: string;
  /** Where the trailer line holds the number of data lines; checked (E_FIXED_TRAILER_COUNT). */
  trailerCount?: { start: number; end?: number; width?: number };
  /** The trailer line must be there (a file without it was cut off). Default false. */
  trailerRequired?: boolean;
  /** Text after the last column: error (default, E_FIXED_LONG_LINE) or ignore. */
  overlong?: 'error' | 'ignore';
}

export interface CsvDialect {
  delimiter?: string; // default ","
  quote?: string; // default '"'; null/"" = no quoting
  escape?: string; // default same as quote
  /** utf-8 (default), windows-1252, latin1/iso-8859-1, utf-16le, utf-16be, utf-16 (BOM decides) */
  encoding?: string;
  /** 1-based line of the header row; lines above it are preamble and skipped. Default 1. 0 = no header (columns named "1","2",...). */
  headerRow?: number;
  /** Lines starting with this are comments and skipped. */
  comment?: string;
  /** Decimal separator for decimal fields ("." default, or ","). */
  decimal?: string;
  /** Thousands separator stripped from decimal fields ("" default). */
  thousands?: string;
  /** Trim spaces around values (default true). */
  trim?: boolean;
  /** Rows whose values are all empty are skipped silently (default true). */
  skipEmptyRows?: boolean;
}

export interface XmlOptions {
  /**
   * Path of the elements that are records, from the document root, by local name
   * (namespace prefixes ignored), e.g. "EPCISDocument/EPCISBody/EventList/ObjectEvent".
   * "*" matches any one element; "a|b" matches either name at that step.
   */
  record: string;
  /**
   * Prefixes the mapping's paths use, bound to namespace URIs: `{ epcis: "urn:epcglobal:epcis:xsd:1" }`.
   * A path step "epcis:EPCISDocument" then matches the element in that namespace whatever prefix
   * the partner writes. An undeclared prefix matches the prefix as written; no prefix (or "*:")
   * matches any namespace.
   */
  namespaces?: Record<string, string>;
}

export type FieldValueType = 'string' | 'decimal' | 'integer' | 'date' | 'datetime' | 'boolean' | 'result' | 'list' | 'spec';

export type SplitKind = 'number' | 'unit' | 'sgtin:gtin' | 'sgtin:serial' | 'sscc' | `gs1:${string}`;

/**
 * A source addressed by something other than its header text (CSV):
 * - { block: "Sample ID:" } the cell right of (or `below: true`: under) a label in the lines
 *   above the header row (a key/value header block), the same value on every row;
 * - { column: 3 } the 3rd column, whatever its header (also for empty header cells);
 * - { header: "Units", occurrence: 2 } the 2nd column headed "Units";
 * - { rightOf: "Result", offset: 1 } the column next to the one headed "Result" (negative: left).
 */
export interface FromRef {
  block?: string;
  below?: boolean;
  column?: number;
  header?: string;
  occurrence?: number;
  rightOf?: string;
  offset?: number;
}

export interface FieldSpec {
  /**
   * Where the value comes from. CSV: header text (several spellings allowed, first present wins;
   * matched case-insensitively after trimming). XML: path relative to the record element by local
   * name, "@attr" for attributes, "a/b/@c", "." for the element's own text.
   * Special: "$file" = the file name, "$line" = the line number, "$each" = the value of the current
   * `each` column (see RecordSpec.each), "$eachColumn" = its header text.
   */
  from?: string | string[] | FromRef;
  /**
   * The value built from several columns: "{Date} {Time}" puts the value of column Date, a
   * space and the value of column Time together ({$file}, {$line} work too). A column that is
   * empty makes the whole value empty. Exclusive with `from`.
   */
  template?: string;
  /**
   * Take one part of a compound value (applied after `extract`, before `map` and typing):
   * "number"/"unit" of "12,5 mg/kg"; "gs1:01", "gs1:10", "gs1:17", "gs1:21", … one application
   * identifier of a GS1 element string ("(01)09506000134352(17)261231(10)AB-12"; (17)/(11)/(15)
   * come out as yyyy-MM-dd); "sgtin:gtin"/"sgtin:serial" of an EPC SGTIN
   * ("urn:epc:id:sgtin:0614141.107346.2017"); "sscc" (the 18 digits of an EPC SSCC URI).
   */
  split?: SplitKind;
  /** A constant value (no source). */
  const?: string | number | boolean;
  /** Used when the source is absent/empty/a missing marker. */
  default?: string | number | boolean;
  /** Default: what the canonical field needs (decimal for quantity, datetime for eventTime, result for test_result.result, list for capaRefs); string for identifiers. */
  type?: FieldValueType;
  /** Date/datetime pattern(s) in Unicode/Luxon tokens: "dd.MM.yyyy", "M/d/yy h:mm a", "yyyy-MM-dd'T'HH:mm:ssZZ"; "iso" = ISO-8601. */
  format?: string | string[];
  /** IANA time zone for datetimes without an offset (default UTC). */
  tz?: string;
  /** Locale for month/weekday names and AM/PM markers in `format` (default "en-US"). Added by the mapping engine. */
  locale?: string;
  /** Value map: source code → canonical value (matched after trimming, case-sensitive unless mapCaseInsensitive). */
  map?: Record<string, string | number | boolean | null>;
  mapCaseInsensitive?: boolean;
  /** Policy for a code not in `map`: error (row rejected, E_UNMAPPED_CODE; default), keep (pass through), null (treat as missing), skip (drop this record silently, counted as filtered). */
  unmapped?: 'error' | 'keep' | 'null' | 'skip';
  /** Missing-value markers for this field, on top of the file-level `missing`. */
  missing?: string[];
  required?: boolean;
  /** Date plausibility for this date/datetime field, overriding the mapping's `plausibleDates` and the built-in defaults. */
  plausible?: DatePlausibility;
  /** The column (CSV) may be absent from a file's header: then the field stays empty (or takes its default). Otherwise a named column missing from the header rejects the file (E_MISSING_COLUMN). */
  optional?: boolean;
  /** This field is an identifier of the lot in the given scheme (goes to MappedRecord.ids, not fields). */
  xref?: IdScheme;
  /** Regular expression with one capture group applied to the raw value before typing, e.g. "^COA_(.+)_v\\d+\\.pdf$". */
  extract?: string;
  /** For type list: separator (default ","). */
  separator?: string;
  /** Decimal separator override for this field. */
  decimal?: string;
  /**
   * type result: the lab's own words on top of the built-in ones (ND, n.d., <LOQ, BLQ, …):
   * word as sent → ND, <LOQ, <, >, <=, >= (a qualifier, alone or before a limit: "ND (<0,01)"),
   * or conforms / does not conform / positive / negative (a qualitative result, stored as that word).
   */
  qualifiers?: Record<string, ResultWord>;
  /**
   * The value is the number of the record among the file's records with the same key but for
   * this field (test_result: lot, test, sample, time): 1, 2, 3 … in file order, rejected rows
   * included (so a corrected resend numbers alike) — repeated measurements of one test become
   * replicates instead of overwriting each other. Instead of `from`.
   */
  sequence?: boolean;
}

/**
 * Which dates are plausible (E_IMPLAUSIBLE_DATE otherwise). Defaults: not before 2000-01-01;
 * at most 7 days in the future, except for forward-looking fields (expiryDate, plannedDate,
 * confirmedDate), which have no future limit.
 */
export interface DatePlausibility {
  /** Days after "now" (the time the file is mapped) a value may lie; null = no limit. */
  maxFutureDays?: number | null;
  /** Earliest plausible date, YYYY-MM-DD, or a year. */
  notBefore?: string | number;
}

export interface Condition {
  /** Source (same syntax as FieldSpec.from) or a canonical field already mapped, prefixed "=": "=status". */
  field: string;
  equals?: string;
  in?: string[];
  notIn?: string[];
  matches?: string; // regex
  present?: boolean;
}

export interface EachSpec {
  /** Header text(s) of a wide column (one of these spellings). One of column, columns, allExcept. */
  column?: string | string[];
  /**
   * Every column whose header matches this regular expression (CSV), e.g. "^(.+) \\(mg/kg\\)$":
   * one record per matching column that has a value; `$eachMatch` reads the first capture group
   * (the test code), `$eachColumn` the header text. Analytes added later are picked up.
   */
  columns?: string;
  /**
   * Every column except these headers and those the mapping reads elsewhere (fields, conditions,
   * ignoreColumns): "the rest are analytes". Columns with an empty header are not included.
   */
  allExcept?: string[];
  /**
   * XML: one record per element at this path (relative to the record), e.g. "epcList/epc" or
   * "extension/quantityList/quantityElement". Fields read the element with `$each` (its text) or
   * `$each/child`, `$each/@attr`; every other path still reads the record (the parent event), so
   * its fields are copied into each record. The records carry the line of their element.
   */
  path?: string;
  /**
   * XML: one record per value a join (see MappingSpec.joins) resolves the keys at `key` to, e.g.
   * the lots packed on the pallet a shipping event names. `$each` reads the value.
   */
  join?: string;
  /** XML, with `join`: path(s) of the keys in the record, e.g. ["epcList/epc", "parentID"]. */
  key?: string | string[];
  /** Constant canonical fields for the record produced from this column. */
  set?: Record<string, string | number | boolean>;
  /** The column may be absent from a file's header (otherwise E_MISSING_COLUMN). */
  optional?: boolean;
}

/**
 * A lookup built in a first pass over an XML document, used by `each: [{ join, key }]` in the
 * second pass: key → value from the records that carry both (e.g. EPC → lot number from the
 * commissioning events' ILMD), and optionally a containment (parent → children, e.g. from
 * aggregation events) searched recursively, so a pallet resolves to the lots of its cases' items.
 */
export interface JoinSpec {
  /** Record elements (local names, "a|b") that give key → value; default every record. */
  records?: string;
  /** Path(s) of the keys in such a record, e.g. "epcList/epc" (every element there is a key). */
  key: string | string[];
  /** Path of the value, e.g. "extension/ilmd/lotNumber". */
  value: string;
  /** Containment: keys that hold other keys (a pallet holds cases, a case holds items). */
  contains?: {
    /** Record elements that state containment, e.g. "AggregationEvent"; default every record. */
    records?: string;
    /** Path of the container's key, e.g. "parentID". */
    parent: string;
    /** Path(s) of the contained keys, e.g. "childEPCs/epc". */
    children: string | string[];
  };
  /** Most entries (key → value pairs plus parent → child links) the index may hold (default 1,000,000): more is E_JOIN_INDEX_LIMIT. */
  maxEntries?: number;
}

export interface RecordSpec {
  emit: RecordKind;
  /** Only rows matching all conditions produce this record. */
  when?: Condition[];
  /** One record per listed column that has a value (wide → long). */
  each?: EachSpec[];
  fields: Record<string, FieldSpec>;
}

/**
 * Several tables in one CSV file: a row with a cell equal to `header` starts a table (its header
 * row); a blank line, or a line whose first non-empty cell matches `end`, ends it. Lines between
 * tables are that section's key/value block; a block value carries down to later sections until
 * a section states it again. dialect.headerRow is not used.
 */
export interface SectionsSpec {
  /** Text of a header cell that marks a header row, e.g. "Analyte" (compared like headers). */
  header: string;
  /** Regular expression on the first non-empty cell of a line that ends a table (a blank line always does). */
  end?: string;
}

/**
 * Plate-reader grids (CSV/xlsx): one record per well of a grid of values by row letter (A, B, …)
 * × column number (1, 2, …), with the sample the layout names for it. Fields read $value,
 * $well ("A1"), $row ("A"), $column ("1"), $sample, $grid (the values marker line's first cell),
 * $plate (the plate marker's cell, else the grid's), and key/value blocks around the grids.
 */
export interface GridSpec {
  /** The values grid: a line whose first non-empty cell matches `after` (a regular expression) stands above it. */
  values: { after: string };
  /**
   * What names the sample in each well: a second grid under a marker line (`after`), or a table
   * under a marker line (`table`) with a well column (`well`, default "Well": A1, A01) and a
   * sample column (`sample`, default "Sample"). A well with a value and no sample is E_GRID_NO_SAMPLE.
   */
  samples?: { after?: string; table?: string; well?: string; sample?: string };
  /** A line whose first non-empty cell matches this starts a plate (default: each values grid with its samples is one). */
  plate?: string;
}

export interface MappingSpec {
  partner: string;
  feed: string;
  /** Free-form version label an analyst bumps; the content hash is always stamped too. */
  version?: string | number;
  description?: string;
  /** Default "csv" when the YAML omits it (the loader fills it in). */
  format: MappingFormat;
  /** File-name globs (case-insensitive) this feed accepts. The YAML may give a single string; the loader returns a list. */
  match: string[];
  dialect?: CsvDialect;
  xml?: XmlOptions;
  xlsx?: XlsxOptions;
  /** format fixed: the column layout. */
  fixed?: FixedOptions;
  /** XML: lookups built in a first pass over the document (see JoinSpec), by name. */
  joins?: Record<string, JoinSpec>;
  /** File-level missing-value markers (default: [""]). */
  missing?: string[];
  /** Rows not matching all conditions are skipped (counted as filtered, not errors). */
  filter?: Condition[];
  /** Date plausibility for every date/datetime field of this mapping (a field's `plausible` wins). */
  plausibleDates?: DatePlausibility;
  records: RecordSpec[];
  /**
   * CSV: headers of columns the mapping deliberately does not read. Any other column that no
   * field, condition or `each` reads is reported (W_UNCLAIMED_COLUMN) in the dry run and the ack.
   */
  ignoreColumns?: string[];
  /** CSV: the file holds several tables, each with its own key/value block and header row. */
  sections?: SectionsSpec;
  /** CSV/xlsx: plate-reader grids, one record per well. */
  grid?: GridSpec;
  /**
   * CSV: report columns nothing reads (W_UNCLAIMED_COLUMN). Default: warn when a record has an
   * open-ended `each` (columns / allExcept), else ignore.
   */
  unclaimedColumns?: 'warn' | 'ignore';
  tests?: { input: string; expect: string }[];
}
