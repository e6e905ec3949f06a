// PostgreSQL-only parts of the masterdata area (triggers, indexes) appended to the tables of base.ts.
// None are needed: the area's upserts rely on the UNIQUE keys base.ts already declares
// (materials, purchase_orders primary keys; lots (material_id, lot_number); lot_identifiers
// (scheme, value, issuer, lot_id)) as ON CONFLICT targets, and its lookups use the same indexes
// as on SQLite.

export const SQL = ``;
