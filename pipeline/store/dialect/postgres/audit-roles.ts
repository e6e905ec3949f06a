// The two-role PostgreSQL set-up that keeps the audit trail append-only even for lotgate's own
// database login (docs/postgres-audit-roles.md): an owner role owns the schema and runs the
// migrations; the application role lotgate runs as may read and write the tables as usual but
// only SELECT and INSERT audit_events, and, not owning the table, cannot disable its triggers.
// The SQL lives here so that the document and the conformance test use the same text.

export interface AuditRoleNames {
  /** Owns the schema, runs migrations (`lotgate migrate` with this role's URL). */
  owner: string;
  /** What lotgate connects as day to day. */
  app: string;
}

export const DEFAULT_AUDIT_ROLES: AuditRoleNames = { owner: 'lotgate_owner', app: 'lotgate_app' };

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checked(names: AuditRoleNames): AuditRoleNames {
  for (const n of [names.owner, names.app]) if (!NAME.test(n)) throw new Error(`not a plain role name: ${n}`);
  return names;
}

/** As a superuser, once per cluster: the two login roles (passwords are set apart, e.g. psql's \password). */
export function createRolesSql(names: AuditRoleNames = DEFAULT_AUDIT_ROLES): string {
  const { owner, app } = checked(names);
  return `CREATE ROLE ${owner} LOGIN;
CREATE ROLE ${app} LOGIN;`;
}

/**
 * As a superuser, connected to lotgate's database, once: the owner owns the public schema and
 * nobody else may create objects in it; the application may connect and use the schema.
 */
export function prepareDatabaseSql(names: AuditRoleNames = DEFAULT_AUDIT_ROLES): string {
  const { owner, app } = checked(names);
  return `ALTER SCHEMA public OWNER TO ${owner};
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ${app};
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${app}', current_database()); END $$;`;
}

/**
 * As the owner, after every migration (new tables get no rights by themselves): the usual rights
 * on every table, then the audit trail and the migration record taken back to read (+ append).
 */
export function grantAppSql(names: AuditRoleNames = DEFAULT_AUDIT_ROLES): string {
  const { app } = checked(names);
  return `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${app};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${app};
REVOKE UPDATE, DELETE ON audit_events FROM ${app};
REVOKE INSERT, UPDATE, DELETE ON lotgate_schema FROM ${app};`;
}
