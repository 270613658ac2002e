// The admin API's coded errors: one registry, code → HTTP status. Bodies are {"error": {"code", "message"}}.
import type { FastifyReply } from 'fastify';

export const ADMIN_ERRORS = {
  REQUEST_INVALID: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_RUNNING: 409,
  REQUEST_TOO_LARGE: 413,
  POLICY_INVALID: 422,
  INTERNAL: 500,
} as const;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

export interface AdminErrorBody {
  error: { code: AdminErrorCode; message: string };
}

export function sendError(reply: FastifyReply, code: AdminErrorCode, message: string): FastifyReply {
  const body: AdminErrorBody = { error: { code, message } };
  return reply.code(ADMIN_ERRORS[code]).type('application/json; charset=utf-8').send(body);
}

/** What fastify itself throws (validation, body size, bad JSON): the fields we map, read without trusting them. */
export function errorStatus(error: unknown): { status: number | null; validation: boolean; message: string } {
  if (!(error instanceof Error)) return { status: null, validation: false, message: 'internal error' };
  const status: unknown = Reflect.get(error, 'statusCode');
  const validation: unknown = Reflect.get(error, 'validation');
  return {
    status: typeof status === 'number' ? status : null,
    validation: validation !== undefined && validation !== null,
    message: error.message,
  };
}
