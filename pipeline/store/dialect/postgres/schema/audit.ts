// PostgreSQL-only parts of the audit area (triggers, indexes) appended to the tables of base.ts.

export const SQL = ``;
