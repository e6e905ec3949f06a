// PostgreSQL-only parts of the facts area (triggers, indexes) appended to the tables of base.ts.

export const SQL = ``;
