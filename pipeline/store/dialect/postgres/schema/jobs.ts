// PostgreSQL tables of the jobs area (the same columns as the SQLite schema in pipeline/store/migrations.ts).

export const SQL = ``;
