// Error answers of the API: `{ error: { code, message } }` with the HTTP status. The messages
// for "not found" never differ between "does not exist" and "outside your scope".

import type { FastifyReply } from 'fastify';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
} as const;

export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error: { code, message } });
}

export const notFound = (what: string) => new ApiError(404, 'E_API_NOT_FOUND', `${what} not found (it does not exist, or it is outside your access)`);
