// Every code lotgate emits, in one place: errors (E_*), warnings (W_*), readiness reasons (R_*) and
// audit-trail actions. Each entry says who sees it, what went wrong (a message template; use sites
// write the concrete message with the values filled in) and what to do about it.
//
// Adding a code is one line in the right table below. The union types derived from the tables
// (ErrorCode, WarningCode, ReasonCode, AuditAction) type the `code` fields of RowError, FileError,
// AckError, ReadinessReason and audit events, so tsc rejects a code that is not registered, and
// test/codes/registry.test.ts rejects any E_/W_/R_ literal under pipeline/ or jobs/ that is not here
// and keeps docs/codes.md in step with the partner-facing entries.
//
// Audiences: `partner` — can appear in a partner's acknowledgment (these are the codes of the table
// in docs/codes.md); `analyst` — integration analysts see it from `lotgate mapping check/test` or in
// readiness reasons; `operator` — whoever runs lotgate sees it in configuration checks, logs,
// SFTP refusals and the audit trail.

export type Audience = 'partner' | 'analyst' | 'operator';

export interface CodeInfo {
  /** Who sees the code (the first is the main audience). */
  readonly audience: readonly Audience[];
  /** What went wrong; `{name}` marks a value the use site fills in. */
  readonly message: string;
  /** What the person who sees it should do. */
  readonly todo: string;
}

type Who = Audience | readonly Audience[];
const entry = (who: Who, message: string, todo: string): CodeInfo => ({ audience: typeof who === 'string' ? [who] : who, message, todo });

const P = 'partner';
const A = 'analyst';
const O = 'operator';
const PA = [P, A] as const;

/** Errors: the row, file, mapping, configuration or request is not used as it stands. */
export const ERROR_CODES = {
  // Rows of a partner's file (the row is rejected, the rest of the file is applied)
  E_UNKNOWN_LOT: entry(P, 'No identifier of the row ({value}) resolves to a known lot or open PO line.', 'Check the batch id; if it is right, the ERP may not know the lot yet: resend once its master data has arrived.'),
  E_AMBIGUOUS_LOT: entry(P, 'The identifiers of the row ({value}) resolve to more than one lot.', 'Send one identifier per row that names exactly one lot, or ask your lotgate contact to correct the cross-reference.'),
  E_PARTNER_SCOPE: entry(P, 'The lot belongs to another vendor, or its material is outside the partner\'s scope.', 'Check the batch id and material; report only on lots you make or test for this sponsor.'),
  E_ID_CONFLICT: entry(P, 'An identifier in the row ({value}) contradicts what is already recorded for the lot.', 'Check the identifier against the lot; if the recorded one is wrong, ask your lotgate contact to correct it.'),
  E_BAD_DATE: entry(P, '{field} must be a date/time in the declared pattern; got {value}.', 'Fix the value in the file, or the mapping\'s `format` if the partner writes another pattern.'),
  E_BAD_NUMBER: entry(P, '{field} must be a number in the declared format; got {value}.', 'Fix the value, or the mapping\'s `dialect.decimal` / `thousands` if the partner writes numbers another way.'),
  E_BAD_BOOLEAN: entry(P, '{field} must be a yes/no value; got {value}.', 'Use one of the yes/no words the mapping accepts (true/false, yes/no, 1/0, …).'),
  E_BAD_CONSTANT: entry(PA, 'The value {value} cannot be converted to the field\'s type.', 'Fix the value in the file, or the field\'s `type` / `const` in the mapping.'),
  E_BAD_TYPE: entry(P, '{field} must be of type {type}; got {value}.', 'Fix the value in the file, or the field\'s `type` in the mapping.'),
  E_INVALID_VALUE: entry(P, '{field} must be one of the allowed values; got {value}.', 'Send one of the allowed values, or add a `map` for the partner\'s code in the mapping.'),
  E_UNMAPPED_CODE: entry(P, '{field}: code {value} is not in the mapping\'s map.', 'Fix the code in the file, or add it to the field\'s `map` in the mapping.'),
  E_SPLIT: entry(P, '{field}: {value} is not of the compound shape the mapping splits (number with unit, GS1 element string, EPC SGTIN/SSCC).', 'Write the value in the agreed shape, or fix the field\'s `split` in the mapping.'),
  E_EXTRACT: entry(P, '{field}: {value} does not match the pattern the mapping extracts from.', 'Name the file / write the value as agreed, or fix the field\'s `extract` in the mapping.'),
  E_REQUIRED: entry(P, 'The record needs {field}, which has no value.', 'Fill in the value in the file.'),
  E_UNKNOWN_FIELD: entry(PA, '{field} is not a field of the record kind.', 'Fix the field name in the mapping (see the record kinds in mappings/schema.json).'),
  E_NO_LOT_REF: entry(P, 'The record does not name its lot (no identifier, lot number or PO line).', 'Fill in the batch / lot / sample identifier in the row.'),
  E_INVALID_RECORD: entry(PA, 'The mapped record is not valid: {reason}.', 'Fix the mapping (`lotgate mapping test` shows the record).'),
  E_UNKNOWN_KIND: entry(PA, 'Unknown record kind {kind}.', 'Use one of the record kinds of mappings/schema.json in `emit:`.'),
  E_RAGGED_ROW: entry(P, 'The row has more or fewer columns than the header.', 'Usually an unquoted delimiter inside a value: quote the value, or re-export the file.'),
  E_MISSING_COLUMN: entry(PA, 'A required column ({column}) is not in the file\'s header.', 'Re-export the file with the agreed columns, or fix the column name in the mapping.'),
  // Whole files (nothing of the file is applied)
  E_CSV_QUOTE: entry(P, 'A quoted value starting at line {line} is never closed.', 'Re-export the file; a value probably contains an unbalanced quote.'),
  E_CSV_PARSE: entry(P, 'The CSV could not be parsed in the record starting at line {line}.', 'Re-export the file in the agreed format.'),
  E_ENCODING: entry([P, A], 'The bytes are not valid in the declared encoding ({encoding}).', 'Re-export in the agreed encoding, or fix the mapping\'s `dialect.encoding`.'),
  E_BINARY: entry(P, 'The file is not text (it contains NUL or other binary bytes).', 'Send the export itself, not a spreadsheet workbook or an archive.'),
  E_EMPTY_FILE: entry(P, 'The file has no header row: it contains only blank, comment or preamble lines.', 'Send the file with its data.'),
  E_NO_HEADER: entry(P, 'The file has rows before its header row.', 'Re-export the file with the header where the mapping expects it (`dialect.headerRow`).'),
  E_NO_ROWS: entry(P, 'The file has no data rows (or every row was filtered out by the mapping).', 'Send the file with its data; if the rows are there, ask your lotgate contact to check the mapping.'),
  E_RECORD_TOO_LARGE: entry(P, 'A single record is larger than the limit ({limit} bytes); it was not read.', 'The file is not what the feed expects: check you sent the right file.'),
  E_DIALECT: entry(PA, 'The mapping\'s CSV dialect is invalid: {reason}.', 'Nothing to fix in the file: the analyst fixes `dialect` in the mapping, then the file is replayed.'),
  E_XML_DTD: entry(P, 'The XML has a DOCTYPE; lotgate never expands or fetches one.', 'Export the XML without a DOCTYPE declaration.'),
  E_XML_ENTITY: entry(P, 'The XML uses an entity that is not defined.', 'Export the XML without custom entities.'),
  E_XML_MALFORMED: entry(P, 'The XML is not well-formed at line {line}, column {column}: {reason}.', 'Re-export the file; it is broken or truncated.'),
  E_XML_TOO_DEEP: entry(P, 'The XML is nested deeper than the limit.', 'The file is not what the feed expects: check you sent the right file.'),
  E_XML_TOO_LARGE: entry(P, 'An XML name, text or record is larger than the limit.', 'The file is not what the feed expects: check you sent the right file.'),
  E_XML_PATH: entry(PA, 'The mapping\'s XML path {path} is invalid: {reason}.', 'Nothing to fix in the file: the analyst fixes `xml.record` in the mapping, then the file is replayed.'),
  E_NO_FEED: entry(P, 'No feed of partner {partner} accepts a file named {file}.', 'Rename the file to one of the accepted names listed in the message, or ask for a `match` glob for this name.'),
  E_UNKNOWN_PARTNER: entry([P, O], 'No partner {partner} is configured.', 'Operator: add partners/<id>.yaml (`npx lotgate partner add`), then replay the submission.'),
  E_MAPPING_INVALID: entry(PA, 'The feed\'s mapping has errors.', 'Nothing to fix in the file: the analyst runs `npx lotgate mapping check <partner>`, fixes the mapping and replays the submission.'),
  E_PARTIAL_UPLOAD: entry(P, 'The upload was interrupted before the file was closed; it was not processed.', 'Upload the file again.'),
  E_PROCESSING_FAILED: entry([P, O], 'Processing failed after every retry: {reason}.', 'Send the file again; operator: the logs and `npx lotgate submission <id>` say why, `npx lotgate replay <id>` re-runs it.'),
  E_REVIEW_REJECTED: entry(P, 'The file was rejected in review by {by}: {reason}.', 'Fix what the reviewer names and send the file again.'),
  // Mapping files (lotgate mapping check / test; E_MAPPING_INVALID at ingest)
  E_READ: entry(A, 'The mapping file cannot be read: {reason}.', 'Check the file exists and is readable by lotgate.'),
  E_EMPTY: entry(A, 'The mapping file is empty.', 'Write the mapping (see docs/mapping.md).'),
  E_YAML_SYNTAX: entry(A, 'The YAML is not well-formed: {reason}.', 'Fix the YAML at the line and column given.'),
  E_DUPLICATE_KEY: entry(A, 'The key {key} appears twice in the same map.', 'Keep one of them.'),
  E_SCHEMA: entry(A, '{path} does not match the mapping schema: {reason}.', 'Fix the value; mappings/schema.json lists what is allowed.'),
  E_UNKNOWN_KEY: entry([A, O], 'Unknown key {key} (a did-you-mean is given when one is close).', 'Fix the spelling or remove the key.'),
  E_BAD_VALUE: entry(A, '{path} must be one of the allowed values; got {value}.', 'Use one of the listed values.'),
  E_MISSING_KEY: entry(A, 'A key the mapping needs is missing: {key}.', 'Add the key.'),
  E_PARTNER_MISMATCH: entry(A, 'The mapping\'s partner does not match the folder it is in.', 'Mappings live in mappings/<partner>/<feed>.yaml: fix `partner:` or move the file.'),
  E_FEED_MISMATCH: entry(A, 'The mapping\'s feed does not match its file name.', 'Fix `feed:` or rename the file to <feed>.yaml.'),
  E_FEED_WITHOUT_MAPPING: entry([A, O], 'The partner file lists feed {feed}, which has no mapping file.', 'Write mappings/<partner>/<feed>.yaml or remove the feed from the partner file.'),
  E_DUPLICATE_FEED: entry(A, 'Two mapping files define the same feed.', 'Keep one file per feed.'),
  E_BAD_DIALECT: entry(A, 'The CSV dialect is contradictory: {reason}.', 'Use different characters for delimiter, decimal and thousands separators.'),
  E_BAD_CONDITION: entry(A, 'A when/filter condition needs exactly one test.', 'Give the condition one of equals, in, matches, present.'),
  E_BAD_REGEX: entry(A, 'A regular expression in the mapping is invalid: {reason}.', 'Fix the expression (JavaScript syntax).'),
  E_BAD_SOURCE: entry(A, 'Unknown special source {source}.', 'Use one of $file, $line, $each, $eachColumn.'),
  E_BAD_DATE_FORMAT: entry(A, 'The date pattern {format} is invalid.', 'Use Unicode date tokens (dd.MM.yyyy, M/d/yy h:mm a) or iso.'),
  E_BAD_TZ: entry(A, 'Unknown time zone {tz}.', 'Use an IANA name such as Europe/Berlin or America/New_York.'),
  E_BAD_LOCALE: entry(A, '{locale} is not a locale.', 'Use a BCP 47 tag such as en-US or de-DE.'),
  E_BAD_MAP_VALUE: entry(A, 'A map target is not an allowed value of the field.', 'Map to one of the listed values.'),
  E_DUPLICATE_CODE: entry(A, 'Two codes of a map are the same ignoring case but map to different values.', 'Keep one, or drop mapCaseInsensitive.'),
  E_DUPLICATE_ALIAS: entry(A, 'A wide column is listed in two each entries.', 'List each column once.'),
  E_EACH_MISSING: entry(A, 'A field reads $each, but the record has no each list.', 'Add the each list of wide columns, or read a column with from.'),
  E_EACH_UNUSED: entry(A, 'each lists wide columns, but no field reads them.', 'Add a field with from: $each (e.g. result: { from: $each }).'),
  E_NO_SOURCE: entry(A, 'A field has no from, const or default.', 'Give the field a source.'),
  E_BAD_TEMPLATE: entry(A, 'A field\'s template cannot be read ({detail}).', 'Write placeholders as {Column name}; write a literal brace as {{ or }}.'),
  E_CONFLICTING_SOURCE: entry(A, 'A field has both from and const.', 'Keep one.'),
  E_NO_LOT_REF_FIELD: entry(A, 'The record kind must name its lot, but the mapping gives it no identifier.', 'Add a field with xref, or lotNumber, or poNumber.'),
  E_REQUIRED_FIELD_UNMAPPED: entry(A, 'The record kind needs {field}, but the mapping gives it no source.', 'Map the field (from, const or default).'),
  E_TYPE_MISMATCH: entry(A, 'The declared type would make every record invalid.', 'Use the type the message names.'),
  // Configuration (config.yaml, partner files; `npx lotgate config check`)
  E_CONFIG_INVALID: entry(O, '{path}: {reason}.', 'Fix the value at the place given (`npx lotgate config check` lists every problem).'),
  E_CONFIG_UNKNOWN_KEY: entry(O, '{path}: unknown key {key} (a did-you-mean is given when one is close).', 'Fix the spelling or remove the key; config.schema.json lists every key.'),
  E_CONFIG_SYNTAX: entry(O, 'config.yaml is not well-formed YAML: {reason}.', 'Fix the YAML at the line and column given.'),
  E_CONFIG_NOT_FOUND: entry(O, 'The configuration file {path} does not exist.', 'Check --config / LOTGATE_CONFIG.'),
  E_CONFIG_DUPLICATE: entry(O, '{path}: the name {name} is already used.', 'Give each entry its own name.'),
  E_CONFIG_ENV_MISSING: entry(O, 'The environment variable {variable} named by {path} is not set.', 'Set it in the service\'s environment.'),
  E_CONFIG_SECRET_INLINE: entry(O, 'A secret is written in a configuration file.', 'Name an environment variable (…Env) or a key file (keyPath) instead.'),
  E_CONFIG_KEY_UNREADABLE: entry(O, 'The private key file {path} cannot be read.', 'Check the path and that lotgate may read it.'),
  E_CONFIG_HOST_KEY: entry(O, 'The remote host key is not pinned or does not parse.', 'Set hostKey to the server\'s public host key (ssh-keyscan).'),
  E_CONFIG_INSECURE: entry(O, 'An endpoint uses plain http.', 'Use https, or allow plain http explicitly for a test endpoint.'),
  E_OUTBOUND_CONFIG: entry(O, 'The connectors / notifications configuration has problems.', 'Fix each listed path.'),
  E_PARTNER_ID: entry(O, 'The partner id is not valid.', 'Use lower case letters, digits and dashes (2–63 characters).'),
  E_PARTNER_EXISTS: entry(O, 'A partner with this id exists already.', 'Change its mode, keys or password instead, or choose another id.'),
  E_PARTNER_NOT_FOUND: entry(O, 'No partner with this id.', 'Check the id (GET /api/v1/partners, `npx lotgate partner list`).'),
  E_PARTNER_LOGIN: entry(O, 'The change would leave the partner without a way to log in (or two-step login without a key).', 'Give a public key and/or a password; add another key before removing the last one.'),
  E_PARTNER_PASSWORD: entry(O, 'The partner password is too short.', 'Use at least 12 characters.'),
  E_PARTNER_KEY_NOT_FOUND: entry(O, 'The partner has no SFTP key with this fingerprint.', 'Copy the fingerprint from the access review.'),
  E_PARTNER_FILE: entry(O, 'The partner file would not be valid after the change.', 'Fix the values the message names.'),
  E_KEY_FORMAT: entry(O, 'A partner public key does not parse.', 'Paste the whole OpenSSH public key line (type, base64, comment).'),
  E_KEY_TYPE: entry(O, 'A partner public key is of a type lotgate does not accept.', 'Use an ed25519, ECDSA or RSA (≥ 2048 bits) key.'),
  E_KEY_WEAK: entry(O, 'A partner public key is too weak.', 'Ask the partner for an ed25519 key or an RSA key of at least 2048 bits.'),
  // Operations
  E_MESSAGE_INPUT: entry(O, 'An outbound message cannot be built: {reason}.', 'Fix the data named in the message; the outbox retries.'),
  E_PATH_INVALID: entry(O, 'An SFTP path contains bytes no file name may contain, or is too long.', 'Seen in the audit trail; the partner gets a refusal and must use a plain file name.'),
  E_PATH_DENIED: entry(O, 'An SFTP path leaves the jail or names a hidden file.', 'Seen in the audit trail; the partner gets "Permission denied".'),
  E_PATH_NOT_FOUND: entry(O, 'An SFTP path names nothing.', 'Seen in the audit trail; the partner gets "No such file".'),
  E_HOST_KEY: entry(O, 'The SFTP host key file {path} is not an unencrypted OpenSSH ed25519 private key.', 'Restore the host key from the backup (partners pinned it), or move the file away to generate a new one and tell the partners its fingerprint.'),
  E_DROP_LAYOUT: entry(O, 'A drop-zone folder ({path}) is not a plain folder (a file or a symlink).', 'Move it away; lotgate creates <dropDir>/<partner>/inbound and outbound itself.'),
  E_NAME_EXHAUSTED: entry(O, 'Too many files with the same name in inbound.', 'Check why intake is not taking files (`npx lotgate status`).'),
  E_NAME_TOO_LONG: entry(P, 'The file name is too long ({bytes} bytes; at most 200 bytes in UTF-8).', 'Shorten the file name and upload again.'),
  E_NAME_NOT_TAKEN: entry(P, 'Files named like this are not processed ({reason}).', 'Rename the file and upload it again.'),
  E_AUDIT_TRUNCATED: entry(O, 'An anchored audit event ({seq}) is beyond the chain\'s end: events were removed.', 'Treat as an incident: restore the store from a backup and compare.'),
  E_AUDIT_REWRITTEN: entry(O, 'Audit event {seq} has another hash than anchored: the chain was rewritten and rehashed.', 'Treat as an incident: restore the store from a backup and compare.'),
  E_AUDIT_ANCHOR_FILE: entry(O, '{file}:{line} is not an anchor line.', 'The anchor file is append-only: investigate who changed it.'),
  E_AUDIT_EXPECT_FORMAT: entry(O, '--expect is not <seq>:<hash>.', 'Copy the head line printed by `npx lotgate audit verify`.'),
  E_DATABASE_UNREACHABLE: entry(O, 'PostgreSQL at {url} could not be reached or refused the connection.', 'Check the URL (postgres://user@host:5432/dbname), that the server runs, that the database exists (createdb) and that pg_hba.conf lets this host and user in.'),
  E_STORE_COPY_SOURCE_VERSION: entry(O, 'The SQLite store to copy is at another schema version than this lotgate.', 'Open it once with this lotgate (any command that writes migrates it), then copy again.'),
  E_STORE_COPY_AUDIT_BROKEN: entry(O, 'The audit chain of the SQLite store does not verify; nothing was copied.', 'Run `npx lotgate audit verify`, find out what altered the trail, and resolve it before moving the store.'),
  E_STORE_COPY_TARGET_NOT_EMPTY: entry(O, 'The PostgreSQL database to copy into already holds lotgate rows.', 'Copy into a new, empty database (`createdb lotgate`), or drop the old one first.'),
  E_STORE_COPY_FAILED: entry(O, 'A table could not be written to PostgreSQL; the copy was rolled back and the target left empty.', 'Read the table and row in the message, fix the cause (permissions, disk, a value PostgreSQL refuses) and copy again.'),
  E_STORE_COPY_MISMATCH: entry(O, 'After the copy, row counts, ledger totals or the audit chain differ between SQLite and PostgreSQL.', 'Do not switch to the copy: drop the target database, copy again, and report the message if it repeats.'),
  E_STORE_CHECK_NOT_FOUND: entry(O, 'There is no SQLite store at {path} to check.', 'Pass --url, set LOTGATE_DATABASE_URL or --data-dir to the store lotgate uses; `store check` never creates a database.'),
  E_STORE_CHECK_AUDIT_BROKEN: entry(O, 'The audit chain of the store does not verify (broken at event {seq}).', 'Run `npx lotgate audit verify` for the details and anchors; treat it as an incident: find what altered the trail, restore from a backup and compare.'),
  E_REVIEW_STALE: entry([A, O], 'The mapping or the counts differ from the reviewed preview; nothing was applied.', 'Run `npx lotgate replay <id>`, review the new preview and approve that one.'),
  E_DEMO_CREDENTIALS: entry(O, 'Refusing to serve: partner files accept the published demo keys or password.', 'Give each partner its own keys/password, or run in demo mode explicitly (`npx lotgate demo`, `demo: true`, LOTGATE_DEMO=1).'),
  E_TOO_MANY_ROWS: entry(PA, 'The file has more data rows than the limit of its feed ({limit}); nothing was applied.', 'Send the data in several smaller files, or ask the sponsor to raise limits.maxRows in the partner file.'),
  E_TOO_MANY_ERRORS: entry(PA, 'More rows have errors than the limit of its feed ({limit}); nothing was applied.', 'Fix the export using the first errors listed and send the file again.'),
  E_HEADER_NOT_FOUND: entry([A, P], 'None of the columns the mapping names is in the header row (line {line}).', 'Analyst: fix `dialect.headerRow`, the delimiter or the encoding in the mapping; partner: send the file with its header row.'),
  E_IMPLAUSIBLE_DATE: entry(PA, '{field}: {value} read as {date} is outside the plausible window.', 'Fix the date in the file; if the value is right, fix the mapping\'s date pattern (day and month swapped?) or widen `plausible` / `plausibleDates`.'),
  E_XLS_LEGACY: entry(P, 'The file is a legacy Excel 97-2003 workbook (.xls), which is not read.', 'Save it as Excel Workbook (.xlsx) or as CSV and send it again.'),
  E_XLSX_INVALID: entry(P, 'The file is not a readable Excel .xlsx workbook.', 'Open it in Excel, save it as .xlsx and send it again, or send a CSV file.'),
  E_XLSX_TOO_LARGE: entry(P, 'The workbook would expand beyond the limits (entries, declared uncompressed size or compression ratio); it was not opened.', 'Send the data in smaller workbooks, or as CSV.'),
  E_XLSX_SHEET: entry([A, P], 'The workbook has no sheet {sheet}; the message lists the sheets it has.', 'Analyst: fix `xlsx.sheet` in the mapping; partner: send the workbook with the agreed sheet.'),
  E_RECORD_PATH_NO_MATCH: entry([A, P], 'The mapping\'s record path (xml.record) matches no element of the document.', 'Analyst: correct `xml.record` (the message lists the document\'s top elements); partner: check that the right document type was sent.'),
  E_API_UNAUTHENTICATED: entry(O, 'No valid session or token.', 'Log in, or send a Bearer token (lgt_…).'),
  E_API_FORBIDDEN: entry(O, 'Your role lacks the permission, or the route needs an unscoped role binding.', 'Ask an administrator for the role.'),
  E_API_CSRF: entry(O, 'Missing or wrong x-csrf-token header on a state-changing request.', 'Send the session\'s csrfToken in the x-csrf-token header.'),
  E_API_TOTP_ENROLMENT: entry(O, 'This session must enrol a TOTP authenticator first.', 'Use the TOTP enrol and confirm routes.'),
  E_API_REQUEST_PARTNER: entry(O, 'A document request does not say which partner to ask, and the lot has none or several.', 'Name the partner in "partner".'),
  E_API_NOT_FOUND: entry(O, 'Does not exist, or is outside your scope (the same answer for both).', 'Check the id.'),
  E_API_REQUEST: entry(O, 'The request does not match the route\'s schema.', 'See /api/v1/openapi.json.'),
  E_API_FILTER: entry(O, 'A readiness or state filter has an unknown value.', 'Use one of the listed values.'),
  E_API_CURSOR: entry(O, 'The cursor was not issued by this server.', 'Pass nextCursor back unchanged.'),
  E_API_RATE_LIMIT: entry(O, 'Too many attempts.', 'Wait a minute and try again.'),
  E_API_TOO_LARGE: entry(P, 'The upload is larger than http.maxUploadMB.', 'Send the file over SFTP, or ask the operator to raise the limit.'),
  E_API_FILE_NAME: entry(P, 'The file name is missing or unsafe.', 'Send a plain file name in X-File-Name (or the multipart filename).'),
  E_API_NO_FILE: entry(P, 'There is no file in the request body.', 'Send the file as the body or as a multipart file field.'),
  E_API_NOT_PARTNER: entry(O, 'The caller is not a partner principal.', 'Use a partner\'s token to submit files.'),
  E_API_NO_INTAKE: entry(O, 'This process does not run the intake role.', 'Send the request to a process that runs intake (the default all-in-one start does).'),
  E_API_NO_MAPPINGS: entry(O, 'This process has no mapping catalog.', 'Send the request to a process that runs intake or the worker.'),
  E_API_OPS_ADDRESS: entry(O, 'The caller\'s address is not in http.opsAllow.', 'Add the monitoring system\'s address to http.opsAllow.'),
  E_API_INTERNAL: entry(O, 'The server failed to answer the request.', 'The operator checks the log for the request id.'),
  E_AUTH_FAILED: entry(O, 'The user name, password or code was not accepted.', 'Try again; failures count toward the lockout.'),
  E_AUTH_LOCKED: entry(O, 'The account is locked after repeated failures.', 'Wait for the lockout to end, or ask an administrator (`npx lotgate user enable`).'),
  E_AUTH_TOTP_REQUIRED: entry(O, 'A TOTP code (or a recovery code) is required.', 'Enter the code from your authenticator app.'),
  E_AUTH_TOTP_INVALID: entry(O, 'The TOTP code does not match at enrolment.', 'Check the phone\'s clock and enter a fresh code.'),
  E_AUTH_TOTP_ENROLLED: entry(O, 'TOTP is already enrolled for this user.', 'An administrator resets it: `npx lotgate user reset --totp`.'),
  E_AUTH_TOTP_NOT_STARTED: entry(O, 'TOTP confirmation was called before enrolment.', 'Call the enrol route first.'),
  E_AUTH_PASSWORD_WEAK: entry(O, 'The password is shorter than 12 characters.', 'Choose a longer password.'),
  E_AUTH_RESET_INVALID: entry(O, 'The one-time code is wrong, used or expired.', 'Ask an administrator for a new code.'),
  E_AUTH_USERNAME: entry(O, 'The user name is not valid.', 'Use 2–64 letters, digits, dots, dashes or underscores.'),
  E_AUTH_USER_EXISTS: entry(O, 'The user name is taken.', 'Pick another name.'),
  E_AUTH_NO_USER: entry(O, 'No such principal.', 'See `npx lotgate user list`.'),
  E_AUTH_PARTNER_REQUIRED: entry(O, 'A partner user needs a partner.', 'Pass --partner.'),
  E_AUTH_PARTNER_ROLE: entry(O, 'The role does not fit the principal kind.', 'Partner users get partner roles only; internal users internal roles.'),
  E_AUTH_ROLE: entry(O, 'Unknown role.', 'Use one of the listed roles.'),
  E_AUTH_TOKEN_EXPIRY: entry(O, 'The token expiry is missing or above the maximum.', 'Pass --days within auth.tokenMaxDays.'),
  E_AUTH_NO_TOKEN: entry(O, 'No such token.', 'See `npx lotgate token list`.'),
  E_AUTH_NO_PARTNER: entry(O, 'No such partner.', 'See `npx lotgate partner list`.'),
  E_SIGN_CHALLENGE: entry(O, 'The signing challenge is unknown, used, expired or for another record.', 'Request a new challenge and sign again.'),
  E_SIGN_RECORD_CHANGED: entry(O, 'The record changed since the challenge was issued.', 'Review the record again before signing.'),
  E_SIGN_DECISION: entry(O, 'The decision is not one of the allowed values.', 'Use one of the listed decisions.'),
  E_SIGN_MEANING: entry(O, 'The signature meaning is not one of the allowed values.', 'Use one of the listed meanings.'),
  E_SIGN_SOD: entry(O, 'An administrator cannot sign (separation of duties).', 'Sign with an account that holds no admin role.'),
  E_SIGN_SESSION: entry(O, 'Service tokens cannot sign.', 'Sign as a person, in a session.'),
  E_SIGN_TOTP_REQUIRED: entry(O, 'The signer has no TOTP enrolled.', 'Enrol TOTP first.'),
  E_SIGN_NOT_ALLOWED: entry(O, 'The signer lacks the permission to sign this decision.', 'Ask for the qa role.'),
  E_SIGN_NOT_PENDING: entry(O, 'The submission is not pending review.', 'Nothing to sign: it was already decided.'),
  E_SIGN_SIGNER: entry(O, 'The signer is unknown or disabled.', 'Check the user name.'),
  E_SIGN_NO_LOT: entry(O, 'No such lot.', 'Check the lot number.'),
  E_SIGN_NO_SUBMISSION: entry(O, 'No such submission.', 'Check the submission id.'),
  E_FORM_INVALID: entry(P, 'The form has {n} problems.', 'Correct each problem listed next to the form and send it again.'),
  E_FORM_REQUIRED: entry(P, '{label} is required.', 'Fill in the field.'),
  E_FORM_LOT: entry(P, '{label}: {value} is not one of your open lots.', 'Pick a lot from the list.'),
  E_FORM_VALUE: entry(P, '{label}: the value is not valid ({reason}).', 'Correct the value (a date, a number or one of the listed choices).'),
  E_FORM_FILE: entry(P, 'Attach the document (a PDF).', 'Attach the PDF.'),
  E_FORM_NAME: entry(P, 'No file name for these values is accepted by the feed.', 'Check the values, or send the file itself.'),
  E_FORM_NONE: entry(P, 'This feed has no guided form.', 'Send the feed\'s files by upload or SFTP.'),
  E_BAD_SPEC: entry(P, '{field}: the specification {value} starts like a limit ("NMT 0.5 %", "≥ 80", "95.0 - 105.0") but cannot be read.', 'Write the limit in one of those forms with numbers in the declared notation; if the column holds free text, the analyst maps it to specText (type string) instead of spec.'),
  E_GRID_NO_SAMPLE: entry(P, 'Well {well} has a value but the layout names no sample for it.', 'Name the sample of every measured well in the plate layout (or the sample table), or leave the well empty.'),
  E_GRID_SHAPE: entry(P, 'A line of a plate grid does not fit the grid: {reason}.', 'Export the plate as a grid of rows A, B, … under a header of column numbers 1, 2, …, without extra cells.'),
  E_GRID_NOT_FOUND: entry([A, P], 'No grid of values was found: no line matches the mapping\'s grid marker {marker}.', 'Analyst: fix grid.values.after (a regular expression on the first cell of the line above the grid); partner: send the plate reader export with its result grid.'),
  E_GRID_SAME_KEY: entry(PA, 'Two wells of one grid line give the same result (same lot, test, sample, time and replicate): one would silently overwrite the other.', 'Analyst: take the replicate from the well (`replicate: { from: $well }`) so each well is kept; partner: check the plate layout.'),
  E_GRID_TOO_LARGE: entry(P, 'A plate grid is larger than lotgate reads ({limit} wells).', 'Send one plate per grid; split very large plates into several grids.'),
  E_FIXED_SHORT_LINE: entry(P, 'A fixed-width line ends before one of the declared columns starts ({column}).', 'Re-export the file with every column padded to its width; analyst: check `fixed.columns` in the mapping.'),
  E_FIXED_LONG_LINE: entry(P, 'A fixed-width line has text after the last declared column (position {column}): the columns have probably shifted.', 'Re-export the file in the agreed layout; analyst: check `fixed.columns` (or set `fixed.overlong: ignore` if trailing text is expected).'),
  E_FIXED_AFTER_TRAILER: entry(P, 'A data line follows the trailer line: the file was probably concatenated or cut.', 'Send each export as one complete file.'),
  E_FIXED_TRAILER_COUNT: entry(P, 'The trailer\'s record count does not match the data lines of the file, or the required trailer is missing.', 'Send the complete export; nothing of this file was applied.'),
  E_XML_SEVERAL_VALUES: entry(PA, '{field}: the XML path matches several elements in the record, but the field takes one value.', 'Analyst: pick one element with a predicate (`name[@type=\'…\']`), make one record per element with `each: [{ path: … }]`, or read all with `type: list`; partner: send one value if only one is agreed.'),
  E_JOIN_UNRESOLVED: entry(P, 'A key of the record ({value}) resolves to nothing through the document\'s join: no event in the document gives it a lot, directly or through what it contains.', 'Send the commissioning and packing (aggregation) events of these items in the same document; analyst: check the mapping\'s `joins`.'),
  E_JOIN_INDEX_LIMIT: entry(PA, 'The document holds more join entries than the mapping allows; it was not mapped.', 'Partner: split the document; analyst: raise `joins.<name>.maxEntries` if the memory allows.'),
  E_XLSX_ENCRYPTED: entry(P, 'The workbook is protected with a password (encrypted) and cannot be read.', 'Remove the password in Excel (File > Info > Protect Workbook), save it as .xlsx and send it again.'),
  E_XLSX_DOCTYPE: entry(P, 'A part of the workbook declares a DOCTYPE or entities, which Excel never writes; it was not read (entities are never resolved).', 'Open the file in Excel, save it as .xlsx and send it again.'),
  E_SUGGEST_EXISTS: entry(A, 'The output file {path} exists; mapping suggest does not overwrite it.', 'Pass --force to replace it, or choose another --out path.'),
  E_SUGGEST_UNREADABLE: entry(A, 'No table could be found in the sample {file} ({reason}).', 'Check the file is a CSV/TXT, .xlsx or XML sample of the feed; or write the mapping by hand (docs/mapping.md).'),
  E_PARSE_THREAD_FAILED: entry([P, O], 'The file could not be read and mapped: its mapping thread failed ({reason}); nothing was applied.', 'Partner: check that the file is a sound export of the agreed shape and send it again. Operator: the log names the reason (out of memory on an oversized cell or row, a crash); report it if the file is sound.'),
} as const satisfies Record<`E_${string}`, CodeInfo>;

/** Warnings: something is used, but probably not as meant. */
export const WARNING_CODES = {
  W_COLUMN_NOT_FOUND: entry(A, 'No column for {field}; it stays empty (or takes its default) on every row.', 'Check the header spelling in the mapping and the file.'),
  W_UNCLAIMED_COLUMN: entry([A, P], 'Columns of the header are read by no field, condition or each rule: their values are not used.', 'Analyst: map the columns, or list them under `ignoreColumns` if that is intended; partner: nothing, unless the column carries data the sponsor should receive.'),
  W_DUPLICATE_HEADER: entry(A, 'The header {column} appears twice; the field reads the first.', 'Rename one of the columns, or read the one you mean by another alias.'),
  W_DATE_FORMAT: entry(A, 'A date pattern is probably not what was meant.', 'Check the pattern against the partner\'s sample.'),
  W_DIALECT: entry(A, 'The delimiter is also the decimal separator: decimal values must be quoted.', 'Check the partner quotes decimals, or use another delimiter.'),
  W_DUPLICATE_ALIAS: entry(A, 'A header alias is listed twice.', 'Remove one.'),
  W_DUPLICATE_MARKER: entry(A, 'A missing-value marker is listed twice.', 'Remove one.'),
  W_EMPTY_MAP: entry(A, 'The map is empty: every value is unmapped.', 'Add the codes, or remove the map.'),
  W_ND_MISSING: entry(A, 'A missing-value marker hides the ND qualifier of results.', 'Remove the marker from missing, or accept that such results become absent.'),
  W_NO_TZ: entry(A, 'Date-times carry no UTC offset and no tz is set, so they are read as UTC.', 'Set tz (e.g. Europe/Berlin) if the partner writes local time.'),
  W_UNUSED_OPTION: entry(A, 'An option has no effect here.', 'Remove it, or move it where it applies.'),
  W_XREF_SHADOWS: entry(A, 'A field with xref becomes an identifier, not the record field of that name.', 'Give the identifier another name if you want both.'),
  W_YAML: entry(A, 'A YAML warning: {reason}.', 'Fix the YAML at the line and column given.'),
  W_AUDIT_NO_ANCHORS: entry(O, 'There are no anchors to compare the audit chain with.', 'Keep the printed head somewhere else; let the audit-anchor job run.'),
  W_REVIEW_SUPERSEDED: entry([A, O], 'Superseded by a newer preview of the same content ({id}).', 'Decide on the newer submission.'),
  W_SUPERSEDED_IN_FILE: entry(PA, 'Line {line} was overwritten by line {kept} of the same file (same fact: {key}); only the kept line\'s values are stored.', 'Send each fact once per file, or (analyst) map a `replicate` field so repeated measurements are all kept.'),
  W_DATABASE_BUSY: entry(O, 'Submission {submissionId} waited for the write lock longer than the busy timeout (another file\'s transaction held it); nothing of it was applied yet, and it is tried again (attempt {attempt}).', 'Nothing to do: the file is applied once the other transaction ends. If this repeats for minutes, look for a very large file being applied or a stuck process holding the database.'),
} as const satisfies Record<`W_${string}`, CodeInfo>;

/** Readiness reasons: why a lot is not READY (shown to QA and analysts on the board). */
export const REASON_CODES = {
  R_STAGE_INCOMPLETE: entry(A, 'Required manufacturing stages are not completed: {stages}.', 'Wait for (or ask the manufacturer for) a completion event per stage.'),
  R_STAGE_ON_HOLD: entry(A, 'A stage is on hold.', 'The manufacturer reports the stage resumed and completed.'),
  R_STAGE_ABORTED: entry(A, 'A stage was aborted.', 'The manufacturer reports the stage repeated and completed.'),
  R_COA_MISSING: entry(A, 'No Certificate of Analysis received for the lot.', 'Ask the lab or manufacturer for the CoA.'),
  R_DOC_MISSING: entry(A, 'A document the product requires is missing: {type}.', 'Ask the manufacturer for the document.'),
  R_LABEL_APPROVAL_MISSING: entry(A, 'No label approval received for the lot.', 'Send / ask for the label_approval document.'),
  R_TEST_MISSING: entry(A, 'No final result for a required test: {test}.', 'Ask the lab for a final result.'),
  R_TEST_PRELIMINARY: entry(A, 'A required test has only a preliminary result.', 'Wait for the lab\'s final result.'),
  R_TEST_OOS: entry(A, 'A final result is out of specification.', 'QA investigates; a retraction or a passing retest clears it per the rules.'),
  R_TEST_OOS_NOT_RETRACTED: entry(A, 'An out-of-specification result was superseded by a retest but never retracted.', 'QA closes the OOS investigation (the lab retracts the result).'),
  R_TEST_UNIT_MISMATCH: entry(A, 'A result\'s unit differs from the specification\'s unit.', 'Fix the unit in the lab feed or in the specification.'),
  R_TEST_UNEVALUABLE: entry(A, 'A result cannot be evaluated against its limits.', 'Check the result text and the limits.'),
  R_DEVIATION_OPEN_CRITICAL: entry(A, 'An open critical deviation affects the lot.', 'Release is blocked until QA closes the deviation.'),
  R_DEVIATION_OPEN_MAJOR: entry(A, 'An open major deviation affects the lot.', 'Release is blocked until QA closes the deviation (or reclassifies it as minor).'),
  R_DEVIATION_OPEN_MINOR: entry(A, 'An open minor deviation affects the lot.', 'Release with QA sign-off; closing the deviation clears it.'),
  R_DISPOSITION_REJECTED: entry(A, 'QA rejected the lot.', 'It cannot be released unless QA reverses the decision.'),
  R_DISPOSITION_REQUARANTINED: entry(A, 'QA put the lot back into quarantine.', 'QA releases it again when the reason is resolved.'),
  R_EXPIRY_UNKNOWN: entry(A, 'The lot\'s expiry date is unknown.', 'The manufacturer sends the expiry date.'),
  R_EXPIRED: entry(A, 'The lot has expired.', 'It cannot be released.'),
  R_SHELF_LIFE: entry(A, 'Remaining shelf life is below the configured minimum.', 'QA decides; the minimum is set under readiness: in config.yaml.'),
  R_ID_CONFLICT: entry(A, 'The lot\'s identifiers contradict each other.', 'Correct the cross-reference (the evidence names the files).'),
  R_QTY_UOM_MISMATCH: entry(A, 'The lot quantity\'s unit differs from the PO line\'s unit.', 'Fix the unit in the manufacturer\'s feed or the PO.'),
  R_QTY_OUT_OF_TOLERANCE: entry(A, 'The lot quantity is outside the PO line\'s tolerance.', 'QA decides; the tolerance is set under readiness: in config.yaml.'),
} as const satisfies Record<`R_${string}`, CodeInfo>;

/** Audit-trail actions (the ACTION column of `npx lotgate audit list`). */
export const AUDIT_ACTIONS = {
  'submission.received': entry(O, 'A file was taken into the ledger and archived.', 'None.'),
  'submission.applied': entry(O, 'Every row of a file was applied.', 'None.'),
  'submission.applied_with_errors': entry(O, 'A file was applied except the rejected rows.', 'The partner fixes and resends the listed rows.'),
  'submission.rejected': entry(O, 'Nothing of a file was applied.', 'See the acknowledgment for why.'),
  'submission.quarantined': entry(O, 'A file was quarantined (interrupted upload or processing failed).', 'The partner sends it again; check the logs if processing failed.'),
  'submission.duplicate': entry(O, 'The same bytes from the same partner were received before.', 'None.'),
  'submission.pending_review': entry(O, 'A file of a partner in review mode awaits approval.', '`npx lotgate submission approve|reject <id>`.'),
  'submission.approved': entry(O, 'A held file was approved and applied.', 'None.'),
  'submission.review_rejected': entry(O, 'A held file was rejected in review.', 'None.'),
  'lot.readiness_changed': entry(O, 'A lot\'s readiness state or reasons changed.', 'None.'),
  'outbox.retry': entry(O, 'An operator re-queued a dead outbox message.', 'None.'),
  'outbox.hold': entry(O, 'An operator held an outbox message back from the push job (with the reason).', 'Release it (`npx lotgate outbox release <id> --reason …`) once the reason is settled.'),
  'partner.added': entry(O, 'A partner was added (partners/<id>.yaml and its folders), over the API or with `lotgate partner add`.', 'None; review in the periodic access review.'),
  'partner.mode_changed': entry(O, 'A partner\'s onboarding mode (review/shadow/live) was changed (API or `lotgate partner mode`).', 'None.'),
  'partner.key_added': entry(O, 'An SFTP public key was added to a partner (with its fingerprint).', 'None; review in the periodic access review.'),
  'partner.key_removed': entry(O, 'An SFTP public key was removed from a partner.', 'None; review in the periodic access review.'),
  'partner.password_set': entry(O, 'A partner\'s SFTP password was set (the hash is stored, never shown).', 'Give the password to the partner over a separate channel.'),
  'lot.document_requested': entry(O, 'Someone asked a partner for a missing document of a lot (with type and message); the notify job sends it to the partner\'s contacts.', 'The partner sends the document; see GET /api/v1/lots/{lotId}/requests.'),
  'outbox.release': entry(O, 'An operator released a held outbox message; the next push sends it.', 'None.'),
  'job.run': entry(O, 'A scheduled job ran.', 'If it failed, see `npx lotgate job list`.'),
  'sftp.connect': entry(O, 'An SFTP connection was opened.', 'None.'),
  'sftp.disconnect': entry(O, 'An SFTP connection was closed.', 'None.'),
  'sftp.auth': entry(O, 'An SFTP login attempt (success or failure, with method and key fingerprint).', 'Repeated failures: check the partner\'s key or password.'),
  'sftp.ban': entry(O, 'The defender banned an IP or user name after repeated failures.', 'If it is a real partner, check its credentials; the ban expires.'),
  'sftp.refused': entry(O, 'A connection from a banned IP was refused.', 'None.'),
  'sftp.login_timeout': entry(O, 'A connection did not log in within the grace time.', 'None.'),
  'sftp.denied': entry(O, 'An SFTP request was refused (path outside the jail, write to outbound, …).', 'If it is a real partner, tell it where to put files.'),
  'sftp.upload.open': entry(O, 'An upload was started.', 'None.'),
  'sftp.upload.staged': entry(O, 'An upload\'s bytes were received and hashed.', 'None.'),
  'sftp.upload.close': entry(O, 'An upload was completed and placed in inbound.', 'None.'),
  'sftp.upload.partial': entry(O, 'An upload was interrupted and quarantined.', 'The partner uploads again.'),
  'sftp.upload.discarded': entry(O, 'A staged upload was discarded (the client removed it before close).', 'None.'),
  'sftp.download': entry(O, 'A partner downloaded a file from outbound.', 'None.'),
  'auth.failures': entry(O, 'Unauthenticated SFTP events from one IP beyond the per-window budget, summarised with their count.', 'Many failures from one IP: check whether it is a partner with a wrong key or password, or an attacker; the defender bans it.'),
  'sftp.ban_lifted': entry(O, 'An operator lifted an SFTP ban (lotgate bans lift).', 'None.'),
  'submission.review_superseded': entry([A, O], 'A newer preview of the same content replaced a submission pending review.', 'Decide on the newer submission.'),
  'submission.ack_failed': entry(O, 'An acknowledgment could not be written after the submission was decided (the decision stands).', 'Free the disk / fix permissions of the drop folder; the reconciler writes the owed acknowledgment.'),
  'submission.ack_written': entry(O, 'An owed acknowledgment was written later by the reconciler.', 'None.'),
  'submission.processing': entry(O, 'A submission was claimed for processing.', 'None.'),
  'audit.verified': entry(O, 'The audit chain was verified (API).', 'None.'),
  'auth.denied': entry(O, 'A request was denied: missing permission or scope.', 'None; review in the periodic access review.'),
  'auth.session.revoked': entry(O, 'A session was revoked.', 'None; review in the periodic access review.'),
  'auth.session.expired': entry(O, 'A session expired (idle or absolute timeout).', 'None; review in the periodic access review.'),
  'job.run_requested': entry(O, 'A job run was requested through the API.', 'None.'),
  'signature.applied': entry(O, 'A Part 11 electronic signature was applied (with its record hash).', 'None.'),
  'signature.invalidated': entry(O, 'A signature was invalidated because a fact under the signed record changed.', 'None.'),
  'submission.downloaded': entry(O, 'The original file of a submission was downloaded.', 'None.'),
  'submission.replay_requested': entry(O, 'A replay of a submission was requested through the API.', 'None.'),
  'auth.locked': entry(O, 'An account was locked after repeated failed logins.', 'None; review in the periodic access review.'),
  'auth.login.failed': entry(O, 'A login failed.', 'None; review in the periodic access review.'),
  'auth.login.succeeded': entry(O, 'A login succeeded.', 'None; review in the periodic access review.'),
  'auth.password.reset_issued': entry(O, 'A one-time password reset code was issued.', 'None; review in the periodic access review.'),
  'auth.password.set': entry(O, 'A user set their password.', 'None; review in the periodic access review.'),
  'auth.role.granted': entry(O, 'A role binding was granted.', 'None; review in the periodic access review.'),
  'auth.role.revoked': entry(O, 'A role binding was revoked.', 'None; review in the periodic access review.'),
  'auth.token.created': entry(O, 'A service token was created.', 'None; review in the periodic access review.'),
  'auth.token.refused': entry(O, 'A service token was refused (expired, revoked or unknown).', 'None; review in the periodic access review.'),
  'auth.token.revoked': entry(O, 'A service token was revoked.', 'None; review in the periodic access review.'),
  'auth.token.used': entry(O, 'A service token was used.', 'None; review in the periodic access review.'),
  'auth.totp.enrolled': entry(O, 'A user enrolled TOTP.', 'None; review in the periodic access review.'),
  'auth.totp.failed': entry(O, 'A TOTP code was refused.', 'None; review in the periodic access review.'),
  'auth.totp.reset': entry(O, 'A user\'s TOTP was reset by an administrator.', 'None; review in the periodic access review.'),
  'auth.user.added': entry(O, 'A user or service account was added.', 'None; review in the periodic access review.'),
  'auth.user.disabled': entry(O, 'A user was disabled.', 'None; review in the periodic access review.'),
  'auth.user.enabled': entry(O, 'A user was enabled.', 'None; review in the periodic access review.'),
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;
export type WarningCode = keyof typeof WARNING_CODES;
export type ReasonCode = keyof typeof REASON_CODES;
export type AuditAction = keyof typeof AUDIT_ACTIONS;
/** A problem code: what a row error, file error or acknowledgment entry carries. */
export type ProblemCode = ErrorCode | WarningCode;
export type Code = ErrorCode | WarningCode | ReasonCode;

export interface CodeEntry extends CodeInfo {
  code: Code | AuditAction;
  kind: 'error' | 'warning' | 'reason' | 'audit';
}

const TABLES = [
  ['error', ERROR_CODES],
  ['warning', WARNING_CODES],
  ['reason', REASON_CODES],
  ['audit', AUDIT_ACTIONS],
] as const;

/** Every registered code, in table order. */
export const ALL_CODES: readonly CodeEntry[] = TABLES.flatMap(([kind, table]) =>
  Object.entries(table).map(([code, info]) => ({ code: code as Code | AuditAction, kind, ...(info as CodeInfo) })),
);

const BY_CODE = new Map(ALL_CODES.map((e) => [e.code as string, e]));

/** The registry entry of a code or audit action, or undefined when it is not registered. */
export function lookupCode(code: string): CodeEntry | undefined {
  return BY_CODE.get(code);
}

export function isCode(code: string): code is Code {
  const e = BY_CODE.get(code);
  return e !== undefined && e.kind !== 'audit';
}

/** The codes an acknowledgment can carry to a partner: the table of docs/codes.md. */
export function partnerCodes(): CodeEntry[] {
  return ALL_CODES.filter((e) => e.kind !== 'audit' && e.audience.includes('partner'));
}

/** Fills `{name}` placeholders of a code's message template (unknown names stay as written). */
export function formatMessage(code: Code, values: Record<string, string | number> = {}): string {
  const info = BY_CODE.get(code);
  if (!info) return code;
  return info.message.replace(/\{(\w+)\}/g, (all, name: string) => (name in values ? String(values[name]) : all));
}
