// PostgreSQL-only parts of the auth area (triggers, indexes) appended to the tables of base.ts.

export const SQL = ``;
