// The admin API's routes. Scope: an admin (root, adminGroup) sees and acts on everything; anyone else only on
// sessions that run as their own uid, and another user's session reads as absent (404), never as forbidden.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdminActionKind } from '../audit/audit-log';
import type { SessionState } from '../audit/session-view';
import { escapeControl } from '../escape';
import type { Caller } from './caller';
import type { AdminContext } from './context';
import { sendError } from './errors';
import * as schema from './schemas';

interface ListQuery {
  user?: string;
  state?: SessionState;
  since?: string;
  until?: string;
  limit?: number;
}

interface AuditQuery {
  user?: string;
  since?: string;
  until?: string;
}

interface IdParams {
  id: string;
}

/** The export is paged and cheap to hold, but no client keeps a response open for longer than this. */
export const AUDIT_DEADLINE_MS = 5 * 60_000;

export interface RouteOptions {
  /** Overall time for one /v1/audit response; default AUDIT_DEADLINE_MS. */
  auditDeadlineMs?: number;
}

type Time = { ok: true; value: Date | undefined } | { ok: false };

/** The schema has checked the shape (ISO_8601); this refuses what still is no date, like 2026-02-30. */
export function parseTime(text: string | undefined): Time {
  if (text === undefined) return { ok: true, value: undefined };
  const ms = Date.parse(text);
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  if (Number.isNaN(ms) || y === undefined || m === undefined || d === undefined) return { ok: false };
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return { ok: false };
  return { ok: true, value: new Date(ms) };
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

export function registerRoutes(
  app: FastifyInstance,
  ctx: AdminContext,
  callerOf: (request: FastifyRequest) => Caller,
  opts: RouteOptions = {},
): void {
  const auditDeadlineMs = opts.auditDeadlineMs ?? AUDIT_DEADLINE_MS;
  /** Admin actions are audited after the fact; a failed audit write is logged, it does not undo the action. */
  const recordAction = (
    caller: Caller,
    action: AdminActionKind,
    target: string | null,
    result: string,
    detail = '',
  ) => {
    try {
      ctx.audit.recordAdminAction({ actorUid: caller.uid, actorUser: caller.user, action, target, result, detail });
    } catch (e) {
      ctx.log.error({ err: e, uid: caller.uid, action, target, result }, 'admin action audit write failed');
    }
  };

  app.get(
    '/v1/health',
    { schema: { querystring: schema.noQuery, response: { 200: schema.health, ...schema.errors } } },
    (_request, reply) => {
      const policy = ctx.policy.current();
      const audit = ctx.auditStatus();
      reply.send({
        // degraded: the audit log cannot be written (sessions refused, or run unaudited with --audit-failure=allow).
        status: audit.writable ? 'ok' : 'degraded',
        version: ctx.version,
        startedAt: ctx.startedAt.toISOString(),
        uptimeSeconds: Math.max(0, Math.floor((Date.now() - ctx.startedAt.getTime()) / 1000)),
        activeSessions: sum(ctx.sessions.activeByMode()),
        limits: ctx.limits,
        policy: { source: policy.source, loadedAt: ctx.policy.loadedAt().toISOString() },
        audit,
      });
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/v1/sessions',
    { schema: { querystring: schema.listQuery, response: { 200: schema.sessionList, ...schema.errors } } },
    (request, reply) => {
      const caller = callerOf(request);
      const q = request.query;
      const since = parseTime(q.since);
      const until = parseTime(q.until);
      if (!since.ok || !until.ok) {
        sendError(reply, 'REQUEST_INVALID', 'since and until must be ISO 8601 dates or times with a zone');
        return;
      }
      const sessions = ctx.audit.listSessions({
        ...(caller.admin ? {} : { uid: caller.uid }),
        ...(q.user === undefined ? {} : { user: q.user }),
        ...(q.state === undefined ? {} : { state: q.state }),
        ...(since.value === undefined ? {} : { since: since.value }),
        ...(until.value === undefined ? {} : { until: until.value }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
      });
      reply.send({ sessions });
    },
  );

  app.get<{ Params: IdParams }>(
    '/v1/sessions/:id',
    {
      schema: {
        params: schema.idParams,
        querystring: schema.noQuery,
        response: { 200: schema.sessionView, ...schema.errors },
      },
    },
    (request, reply) => {
      const caller = callerOf(request);
      const view = ctx.audit.getSession(request.params.id);
      if (view === undefined || (!caller.admin && view.uid !== caller.uid)) {
        sendError(reply, 'NOT_FOUND', 'no such session');
        return;
      }
      reply.send(view);
    },
  );

  app.post<{ Params: IdParams }>(
    '/v1/sessions/:id/kill',
    {
      schema: {
        params: schema.idParams,
        querystring: schema.noQuery,
        body: schema.noBody,
        response: { 200: schema.killResult, ...schema.errors },
      },
    },
    (request, reply) => {
      const caller = callerOf(request);
      const id = request.params.id;
      const view = ctx.audit.getSession(id);
      if (view === undefined) {
        recordAction(caller, 'kill', id, 'not-found');
        sendError(reply, 'NOT_FOUND', 'no such session');
        return;
      }
      if (!caller.admin && view.uid !== caller.uid) {
        // Audited (an attempt on someone else's session), answered exactly like an unknown id.
        recordAction(caller, 'kill', id, 'denied', `session of uid ${view.uid}`);
        ctx.log.info({ uid: caller.uid, session: id, owner: view.uid }, 'admin: kill of another user session refused');
        sendError(reply, 'NOT_FOUND', 'no such session');
        return;
      }
      if (view.state !== 'running' || !ctx.sessions.kill(id)) {
        recordAction(caller, 'kill', id, 'not-running', `state ${view.state}`);
        sendError(reply, 'NOT_RUNNING', 'the session is not running');
        return;
      }
      recordAction(caller, 'kill', id, 'ok', `session of ${view.user} (uid ${view.uid})`);
      ctx.log.info({ uid: caller.uid, session: id, owner: view.uid }, 'admin: session killed');
      reply.send({ id, killed: true });
    },
  );

  app.get<{ Querystring: AuditQuery }>(
    '/v1/audit',
    { schema: { querystring: schema.auditQuery, response: schema.errors } },
    (request, reply) => {
      const caller = callerOf(request);
      const q = request.query;
      const since = parseTime(q.since);
      const until = parseTime(q.until);
      if (!since.ok || !until.ok) {
        sendError(reply, 'REQUEST_INVALID', 'since and until must be ISO 8601 dates or times with a zone');
        return;
      }
      const filter = {
        ...(caller.admin ? {} : { uid: caller.uid }),
        ...(q.user === undefined ? {} : { user: q.user }),
        ...(since.value === undefined ? {} : { since: since.value }),
        ...(until.value === undefined ? {} : { until: until.value }),
      };
      function* lines(): Generator<string, void, undefined> {
        for (const line of ctx.audit.exportLines(filter)) yield `${line}\n`;
      }
      // Past the deadline the connection is cut, not ended cleanly: the chunked body then lacks its last chunk, so
      // the client cannot take a partial export for a whole one. Readable.from returns the generator when the
      // response goes away (fastify destroys the source).
      const deadline = setTimeout(() => {
        ctx.log.warn({ uid: caller.uid, ms: auditDeadlineMs }, 'admin: audit export past its deadline; connection cut');
        reply.raw.destroy();
      }, auditDeadlineMs);
      deadline.unref();
      reply.raw.on('close', () => {
        clearTimeout(deadline);
      });
      reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(lines(), { objectMode: false }));
    },
  );

  const policyView = () => {
    const policy = ctx.policy.current();
    return {
      source: policy.source,
      loadedAt: ctx.policy.loadedAt().toISOString(),
      adminGroup: policy.adminGroup,
      defaults: policy.defaults,
      rules: policy.rules,
      limits: ctx.limits,
    };
  };

  app.get(
    '/v1/policy',
    { schema: { querystring: schema.noQuery, response: { 200: schema.policy, ...schema.errors } } },
    (_request, reply) => {
      reply.send(policyView());
    },
  );

  app.post(
    '/v1/policy/reload',
    {
      schema: {
        querystring: schema.noQuery,
        body: schema.noBody,
        response: { 200: schema.reloadResult, ...schema.errors },
      },
    },
    (request, reply) => {
      const caller = callerOf(request);
      if (!caller.admin) {
        recordAction(caller, 'reload', null, 'denied');
        sendError(reply, 'FORBIDDEN', 'reloading the policy is for root and the admin group');
        return;
      }
      const result = ctx.policy.reload();
      if (!result.ok) {
        recordAction(caller, 'reload', null, 'invalid', result.message);
        ctx.log.warn({ uid: caller.uid, reason: result.message }, 'admin: policy reload refused; old policy stays');
        sendError(reply, 'POLICY_INVALID', escapeControl(result.message));
        return;
      }
      const { source, loadedAt } = policyView();
      recordAction(caller, 'reload', null, 'ok', source ?? 'built-in defaults');
      ctx.log.info({ uid: caller.uid, source }, 'admin: policy reloaded');
      reply.send({ ok: true, source, loadedAt });
    },
  );

  app.get('/metrics', { schema: { querystring: schema.noQuery, response: schema.errors } }, (_request, reply) => {
    reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(ctx.metrics.render(ctx.sessions.activeByMode(), ctx.limits));
  });
}
