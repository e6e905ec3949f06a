// PostgreSQL-only parts of the ledger area (triggers, indexes) appended to the tables of base.ts.

export const SQL = ``;
