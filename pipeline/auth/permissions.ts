// Roles → permissions, and a principal's access for one permission: THE place where lotgate
// decides who may do what. Routes and commands ask `accessFor(principal, permission)`; the
// answer is the scope (store/scope.ts) to read within, or null for "not allowed".

import type { RoleBindingRow } from '../store/store.js';
import { ALL_SCOPE, type Access, type Scope } from '../store/scope.js';

export const PERMISSIONS = [
  'lots:read',
  'lots:export',
  /** The raw source line in provenance answers. */
  'evidence:raw',
  'submissions:read',
  /** Download the original file as received. */
  'submissions:raw',
  'submissions:replay',
  'submissions:review',
  'submissions:create',
  'lots:dispose',
  'outbox:read',
  'outbox:manage',
  'jobs:read',
  'jobs:run',
  'audit:read',
  'status:read',
  'partners:read',
  'partners:manage',
  'users:manage',
  'tokens:manage',
  'access:review',
  'mappings:test',
  /** Ask a partner for a missing document of a lot. */
  'documents:request',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['admin', 'ops', 'qa', 'receiving', 'analyst', 'auditor', 'partner_uploader', 'partner_viewer', 'integration'] as const;
export type Role = (typeof ROLES)[number];

/** Roles whose holders act for one partner: their bindings are always narrowed to it. */
export const PARTNER_ROLES: readonly Role[] = ['partner_uploader', 'partner_viewer'];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  // Users, partners, tokens — and no decisions: an administrator cannot sign.
  admin: ['users:manage', 'tokens:manage', 'access:review', 'partners:read', 'partners:manage', 'status:read', 'jobs:read', 'audit:read'],
  ops: ['lots:read', 'lots:export', 'submissions:read', 'submissions:replay', 'outbox:read', 'outbox:manage', 'jobs:read', 'jobs:run', 'status:read', 'partners:read', 'documents:request'],
  qa: ['lots:read', 'lots:export', 'evidence:raw', 'submissions:read', 'submissions:raw', 'submissions:review', 'lots:dispose', 'status:read', 'partners:read', 'documents:request'],
  receiving: ['lots:read', 'lots:export', 'status:read'],
  analyst: ['lots:read', 'evidence:raw', 'submissions:read', 'submissions:raw', 'mappings:test', 'status:read', 'partners:read'],
  auditor: ['lots:read', 'lots:export', 'evidence:raw', 'submissions:read', 'submissions:raw', 'outbox:read', 'jobs:read', 'audit:read', 'status:read', 'partners:read', 'access:review'],
  partner_uploader: ['submissions:create', 'submissions:read'],
  partner_viewer: ['submissions:read'],
  integration: ['lots:read', 'lots:export', 'submissions:read', 'status:read'],
};

export function isRole(r: string): r is Role {
  return (ROLES as readonly string[]).includes(r);
}

/** Who is asking, as the API and CLI see them after authentication. */
export interface Principal {
  id: number;
  username: string;
  displayName: string;
  kind: 'user' | 'partner_user' | 'service';
  /** The one partner a partner user or partner token acts for. */
  partner: string | null;
  bindings: Pick<RoleBindingRow, 'role' | 'scope'>[];
}

const isAllDim = (d: Scope['sites']) => d === '*' || d.includes('*');

/**
 * The scope within which `p` holds `perm` (the union of the scopes of the bindings whose role
 * grants it), or null when no binding does. Partner principals are narrowed to their partner
 * whatever a binding says.
 */
export function accessFor(p: Principal, perm: Permission): Access | null {
  const scopes: Scope[] = [];
  for (const b of p.bindings) {
    if (!isRole(b.role) || !ROLE_PERMISSIONS[b.role].includes(perm)) continue;
    let s = b.scope;
    if (p.partner !== null || PARTNER_ROLES.includes(b.role)) {
      const own = p.partner === null ? [] : [p.partner];
      s = { ...s, partners: isAllDim(s.partners) ? own : (s.partners as string[]).filter((x) => own.includes(x)) };
    }
    if (!scopes.some((x) => JSON.stringify(x) === JSON.stringify(s))) scopes.push(s);
  }
  if (!scopes.length) return null;
  if (scopes.some((s) => isAllDim(s.sites) && isAllDim(s.materials) && isAllDim(s.partners))) return 'all';
  return scopes;
}

export function can(p: Principal, perm: Permission): boolean {
  return accessFor(p, perm) !== null;
}

/** Partner ids visible within an access ('*' = all). */
export function partnersIn(access: Access): '*' | string[] {
  if (access === 'all') return '*';
  if (access.some((s) => isAllDim(s.partners))) return '*';
  return [...new Set(access.flatMap((s) => s.partners as string[]))];
}

export const EVERYTHING: Scope = ALL_SCOPE;
