// PostgreSQL-only parts of the jobs area (triggers, indexes) appended to the tables of base.ts.
// None needed: leases and cursors are keyed by their primary key, job runs by job_runs_name
// (base.ts); the lease's atomicity comes from the single upsert (areas/jobs.ts), not from schema.

export const SQL = ``;
