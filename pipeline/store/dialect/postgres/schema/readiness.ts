// PostgreSQL-only parts of the readiness area (triggers, indexes) appended to the tables of base.ts.

export const SQL = ``;
