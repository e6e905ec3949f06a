// PostgreSQL-only parts of the ledger area (triggers, indexes) appended to the tables of base.ts.
// None needed: base.ts already carries every index the ledger's queries use (partner+sha256,
// partner+name, state, received_at, archive_path, the partial resend_of and ack_pending indexes,
// rejected_rows by submission and line). The decision lock is an advisory lock (areas/ledger.ts),
// which needs no schema.

export const SQL = ``;
