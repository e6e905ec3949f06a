// PostgreSQL-only parts of the outbox area (triggers, indexes) appended to the tables of base.ts.

export const SQL = ``;
