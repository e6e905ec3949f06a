// PostgreSQL-only parts of the masterdata area (triggers, indexes) appended to the tables of base.ts.

export const SQL = ``;
