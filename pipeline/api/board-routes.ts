// The web board's server side: the pages (one HTML shell; the browser modules under web/ render
// them from the /api/v1 answers), the static assets, and the two API routes the pages need that
// the API does not have: the caller's permissions and the XLSX export of the filtered board.

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { accessFor, PERMISSIONS } from '../auth/permissions.js';
import { listAllLots } from '../read/lots.js';
import { lotExtras } from '../web/lot-extras.js';
import { lotsXlsx } from '../web/lots-xlsx.js';
import { boardCheckRoute } from './board-check.js';
import { boardFormRoutes } from './board-forms.js';
import { boardMappingRoutes } from './board-mappings.js';
import { boardSessionRoutes } from './board-sessions.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema } from './errors.js';
import { guard } from './guard.js';
import { filtersOf, lotQuerySchema, type LotQuery } from './routes-lots.js';

/** The folder with the browser assets: `web/` next to package.json (from pipeline/ or dist/pipeline/). */
export function webDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'web', 'index.html'))) return path.join(dir, 'web');
    dir = path.dirname(dir);
  }
  throw new Error('the web/ folder of the lotgate package is missing: reinstall the package');
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Client-side paths the shell answers: every link a notification carries opens one of them. */
export const PAGE_PATHS = ['/', '/login', '/enrol', '/lots', '/lots/:lotId', '/lots/:materialId/:lotNumber', '/submissions', '/submissions/:id', '/portal', '/sessions', '/exceptions', '/activate', '/admin', '/ops', '/partners/:id', '/mappings', '/mappings/:partner', '/audit'];

const hidden = { schema: { hide: true } };

export function boardRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const dir = webDir();
  // The asset set is fixed at start: a name not in it is 404, never a path on disk.
  const assets = new Map<string, { body: Buffer; type: string }>();
  const walk = (sub: string) => {
    for (const e of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else if (TYPES[path.extname(e.name)]) assets.set(rel, { body: readFileSync(path.join(dir, rel)), type: TYPES[path.extname(e.name)] });
    }
  };
  walk('');
  const shell = assets.get('index.html')!.body;

  const page = async (_req: unknown, reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(shell);
  for (const p of PAGE_PATHS) app.get(p, hidden, page);

  app.get<{ Params: { '*': string } }>('/assets/*', hidden, async (req, reply) => {
    const a = assets.get(req.params['*']);
    if (!a) throw new ApiError(404, 'E_API_NOT_FOUND', `no asset ${req.params['*']}`);
    return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
  });

  boardCheckRoute(app, ctx);
  boardSessionRoutes(app, ctx);
  boardFormRoutes(app, ctx);
  boardMappingRoutes(app, ctx);

  app.get(
    '/api/v1/me/permissions',
    {
      onRequest: guard(ctx, null),
      schema: {
        tags: ['auth'],
        summary: 'The permissions the caller holds (any scope): the pages show only the actions these allow',
        response: { 200: { type: 'object', properties: { permissions: { type: 'array', items: { type: 'string' } } } }, 401: errorSchema, 403: errorSchema },
      },
    },
    async (req) => ({ permissions: PERMISSIONS.filter((p) => accessFor(req.who!.principal, p) !== null) }),
  );

  app.get<{ Querystring: { ids: string } }>(
    '/api/v1/lots/extras',
    {
      onRequest: guard(ctx, 'lots:read'),
      schema: {
        tags: ['lots'],
        summary: "The board's extra columns for up to 500 lots: last evidence received, deviations, documents have/need, push state per connector, latest signature (lots outside your scope are left out)",
        querystring: { type: 'object', required: ['ids'], additionalProperties: false, properties: { ids: { type: 'string', pattern: '^[0-9]+(,[0-9]+){0,499}$', maxLength: 6000 } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, 400: errorSchema, 401: errorSchema, 403: errorSchema },
      },
    },
    async (req) => ({ items: await lotExtras(ctx.store, ctx.config, req.access!, req.query.ids.split(',').map(Number)) }),
  );

  app.get<{ Querystring: LotQuery }>(
    '/api/v1/lots/export.xlsx',
    {
      onRequest: guard(ctx, 'lots:export'),
      schema: {
        tags: ['lots'],
        summary: 'The filtered board as an Excel workbook (same filters and columns as format=csv; text cells never become formulas)',
        querystring: { ...lotQuerySchema, properties: { ...lotQuerySchema.properties, format: { type: 'string', enum: ['xlsx'] } } },
        response: { 200: { type: 'string', format: 'binary' }, 400: errorSchema, 401: errorSchema, 403: errorSchema },
      },
    },
    async (req, reply) => {
      const body = await lotsXlsx(await listAllLots(ctx.store, req.access!, filtersOf(req.query)));
      return reply
        .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', 'attachment; filename="lots.xlsx"')
        .send(body);
    },
  );
}
