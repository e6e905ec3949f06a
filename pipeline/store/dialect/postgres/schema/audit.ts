// PostgreSQL-only parts of the audit area, appended to the tables of base.ts: the database itself
// keeps audit_events append-only, as the SQLite triggers do (migrations.ts). UPDATE and DELETE are
// refused row by row, TRUNCATE (which fires no row trigger) by a statement trigger. A superuser or
// the table's owner can still disable the triggers; the role set-up in docs/postgres-audit-roles.md
// keeps the application's own role from doing even that, and the hash chain shows any edit made
// by someone who can (areas/audit.ts verifyAudit).

export const SQL = `
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit trail is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE INDEX audit_events_at ON audit_events(at);
`;
