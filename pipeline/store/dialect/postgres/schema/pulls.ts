// PostgreSQL-only parts of the pulls area (triggers, indexes) appended to the tables of base.ts.

export const SQL = ``;
