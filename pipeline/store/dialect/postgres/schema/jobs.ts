// PostgreSQL-only parts of the jobs area (triggers, indexes) appended to the tables of base.ts.

export const SQL = ``;
