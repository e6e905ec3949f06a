// /api/v1/admin/partners: partner onboarding over the API — the same file operations as
// `lotgate partner add|mode|key|passwd` (config/partner-admin.ts). Needs partners:manage in an
// unscoped binding; every change is audited. A password goes in, nothing secret comes out.

import type { FastifyInstance } from 'fastify';
import { addPartner, addPartnerKey, PARTNER_MODES, PartnerAdminError, removePartnerKey, setPartnerMode, setPartnerPassword } from '../config/partner-admin.js';
import type { AuditAction } from '../codes.js';
import type { PartnerConfig } from '../model/types.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema } from './errors.js';
import { guard } from './guard.js';

const errs = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema };
const ROLES = ['cmo', 'lab', 'erp', 'qms'];
const params = { type: 'object', required: ['partner'], properties: { partner: { type: 'string', maxLength: 64 } } } as const;
const names = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 500 } as const;
const partnerOut = {
  type: 'object',
  required: ['id', 'name', 'role', 'mode', 'keys', 'password', 'twoStep'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    mode: { type: 'string', enum: [...PARTNER_MODES] },
    keys: { type: 'integer', description: 'SFTP public keys (fingerprints: GET /api/v1/access-review)' },
    password: { type: 'boolean', description: 'whether a password is set (the hash is never returned)' },
    twoStep: { type: 'boolean' },
  },
} as const;
const STATUS: Record<PartnerAdminError['code'], number> = {
  E_PARTNER_ID: 400,
  E_PARTNER_EXISTS: 409,
  E_PARTNER_NOT_FOUND: 404,
  E_PARTNER_LOGIN: 409,
  E_PARTNER_PASSWORD: 400,
  E_PARTNER_KEY_NOT_FOUND: 404,
  E_KEY_FORMAT: 400,
  E_KEY_TYPE: 400,
  E_KEY_WEAK: 400,
  E_PARTNER_FILE: 400,
};

const view = (p: PartnerConfig) => ({ id: p.id, name: p.name, role: p.role, mode: p.mode, keys: p.sftp?.publicKeys?.length ?? 0, password: !!p.sftp?.passwordHash, twoStep: !!p.sftp?.twoStep });

export function partnerAdminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const dirs = { partnersDir: ctx.config.partnersDir, dropDir: ctx.config.dropDir };
  const whole = (access: unknown) => {
    if (access !== 'all') throw new ApiError(403, 'E_API_FORBIDDEN', 'partner administration needs an unscoped admin binding');
  };
  /** Runs the change and its audit event; partner-file refusals become coded 4xx answers. */
  const change = async <T>(req: { who: { principal: { id: number; username: string } } | null }, action: AuditAction, partner: string, details: Record<string, unknown> | ((out: T) => Record<string, unknown>), fn: () => T): Promise<T> => {
    let out: T;
    try {
      out = fn();
    } catch (e) {
      if (e instanceof PartnerAdminError) throw new ApiError(STATUS[e.code], e.code, e.message);
      throw e;
    }
    const p = req.who!.principal;
    await ctx.store.audit.appendAudit({ actor: `principal:${p.id}`, action, subject: `partner:${partner}`, details: { by: p.username, ...(typeof details === 'function' ? details(out) : details) }, at: ctx.now().toISOString() });
    return out;
  };

  app.post<{ Body: { id: string; name: string; role: string; mode?: string; publicKeys?: string[]; password?: string; twoStep?: boolean; feeds?: string[]; products?: string[]; sites?: string[] } }>(
    '/api/v1/admin/partners',
    {
      onRequest: guard(ctx, 'partners:manage'),
      schema: {
        tags: ['admin'],
        summary: 'Add a partner (partners/<id>.yaml and its drop-zone folders), as `lotgate partner add`',
        body: {
          type: 'object',
          required: ['id', 'name', 'role'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', minLength: 2, maxLength: 63 },
            name: { type: 'string', minLength: 1, maxLength: 200 },
            role: { type: 'string', enum: ROLES },
            mode: { type: 'string', enum: [...PARTNER_MODES], default: 'review' },
            publicKeys: { type: 'array', items: { type: 'string', maxLength: 20000 }, maxItems: 20, description: 'OpenSSH public key lines' },
            password: { type: 'string', maxLength: 1000, description: 'SFTP password (stored as an scrypt hash)' },
            twoStep: { type: 'boolean' },
            feeds: names,
            products: names,
            sites: names,
          },
        },
        response: { 201: partnerOut, ...errs },
      },
    },
    async (req, reply) => {
      whole(req.access);
      const b = req.body;
      const r = await change(req, 'partner.added', b.id, { name: b.name, role: b.role, mode: b.mode ?? 'review', keys: b.publicKeys?.length ?? 0, password: b.password !== undefined }, () => addPartner(dirs, b));
      return reply.code(201).send(view(r.partner));
    },
  );

  app.post<{ Params: { partner: string }; Body: { mode: string } }>(
    '/api/v1/admin/partners/:partner/mode',
    {
      onRequest: guard(ctx, 'partners:manage'),
      schema: {
        tags: ['admin'],
        summary: 'Set the onboarding mode: review (files held for approval), shadow (applied, outbox held), live',
        params,
        body: { type: 'object', required: ['mode'], additionalProperties: false, properties: { mode: { type: 'string', enum: [...PARTNER_MODES] } } },
        response: { 200: { ...partnerOut, properties: { ...partnerOut.properties, before: { type: 'string' } } }, ...errs },
      },
    },
    async (req) => {
      whole(req.access);
      const r = await change(req, 'partner.mode_changed', req.params.partner, { mode: req.body.mode }, () => setPartnerMode(dirs, req.params.partner, req.body.mode));
      return { ...view(r.partner), before: r.before };
    },
  );

  app.post<{ Params: { partner: string }; Body: { publicKey: string } }>(
    '/api/v1/admin/partners/:partner/keys',
    {
      onRequest: guard(ctx, 'partners:manage'),
      schema: {
        tags: ['admin'],
        summary: 'Add an SFTP public key (OpenSSH line); answers its fingerprint',
        params,
        body: { type: 'object', required: ['publicKey'], additionalProperties: false, properties: { publicKey: { type: 'string', minLength: 1, maxLength: 20000 } } },
        response: { 200: { type: 'object', required: ['fingerprint', 'added'], properties: { fingerprint: { type: 'string' }, added: { type: 'boolean' } } }, ...errs },
      },
    },
    async (req) => {
      whole(req.access);
      return await change(req, 'partner.key_added', req.params.partner, (r) => ({ ...r }), () => addPartnerKey(dirs, req.params.partner, req.body.publicKey));
    },
  );

  app.delete<{ Params: { partner: string }; Querystring: { fingerprint: string } }>(
    '/api/v1/admin/partners/:partner/keys',
    {
      onRequest: guard(ctx, 'partners:manage'),
      schema: {
        tags: ['admin'],
        summary: 'Remove the SFTP public key with this fingerprint (SHA256:…); the last way to log in cannot be removed',
        params,
        querystring: { type: 'object', required: ['fingerprint'], additionalProperties: false, properties: { fingerprint: { type: 'string', minLength: 8, maxLength: 200 } } },
        response: { 200: { type: 'object', required: ['fingerprint', 'removed'], properties: { fingerprint: { type: 'string' }, removed: { type: 'boolean' } } }, ...errs },
      },
    },
    async (req) => {
      whole(req.access);
      const fp = req.query.fingerprint;
      await change(req, 'partner.key_removed', req.params.partner, { fingerprint: fp }, () => removePartnerKey(dirs, req.params.partner, fp));
      return { fingerprint: fp, removed: true };
    },
  );

  app.put<{ Params: { partner: string }; Body: { password: string } }>(
    '/api/v1/admin/partners/:partner/password',
    {
      onRequest: guard(ctx, 'partners:manage'),
      schema: {
        tags: ['admin'],
        summary: 'Set the partner\'s SFTP password (stored as an scrypt hash; nothing is returned)',
        params,
        body: { type: 'object', required: ['password'], additionalProperties: false, properties: { password: { type: 'string', minLength: 1, maxLength: 1000 } } },
        response: { 204: { type: 'null', description: 'set' }, ...errs },
      },
    },
    async (req, reply) => {
      whole(req.access);
      await change(req, 'partner.password_set', req.params.partner, {}, () => setPartnerPassword(dirs, req.params.partner, req.body.password));
      return reply.code(204).send();
    },
  );
}
