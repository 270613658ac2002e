// The admin HTTP API: fastify on a root-owned Unix socket (/run/jai/admin.sock). Every request is authorised from
// the connection's SO_PEERCRED (read once at accept) and NSS; nothing the client sends says who it is.
import fs from 'node:fs';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { escapeControl } from '../escape';
import { ConnectionCredentials, resolveCaller, type Caller } from './caller';
import type { AdminContext } from './context';
import { errorStatus, sendError } from './errors';
import { registerRoutes } from './routes';
import { MAX_CONNECTIONS_PER_UID, UidConnectionLimit } from './uid-connections';

export interface AdminServer {
  close(): Promise<void>;
  /** chown root:gid of the socket (after a policy reload changed the admin group); null: root:root. */
  setGroup(gid: number | null): void;
}

export interface AdminAppOptions {
  /** Concurrent connections per non-root uid; default MAX_CONNECTIONS_PER_UID. */
  maxConnectionsPerUid?: number;
  /** Overall time for one /v1/audit response; default 5 minutes. */
  auditDeadlineMs?: number;
}

export interface AdminServerOptions extends AdminAppOptions {
  socketPath: string;
  socketMode: number;
  groupGid: number | null;
}

/** Requests carry no more than an empty JSON object. */
export const BODY_LIMIT = 4096;
const REQUEST_TIMEOUT_MS = 10_000;
/** Idle connections (and stalled readers of /v1/audit) are closed after this. */
const CONNECTION_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const MAX_CONNECTIONS = 256;

/**
 * The app without a listener (tests listen on their own path). `creds` reads each accepted connection's
 * SO_PEERCRED; a connection without credentials gets 500 on every request.
 */
export function buildAdminApp(
  ctx: AdminContext,
  creds = new ConnectionCredentials(),
  opts: AdminAppOptions = {},
): FastifyInstance {
  const log = ctx.log.child({ component: 'admin' });
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    forceCloseConnections: true,
    // A HEAD of /v1/audit would read the whole export only to discard it.
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: 64 },
    // Unknown keys must be refused, not silently dropped (fastify's default is removeAdditional: true).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  // Global cap, and a lower one per uid so that one user cannot take all the connections.
  app.server.maxConnections = MAX_CONNECTIONS;
  const perUid = new UidConnectionLimit(opts.maxConnectionsPerUid ?? MAX_CONNECTIONS_PER_UID, log);
  app.server.on('connection', (socket: Socket) => {
    const problem = creds.track(socket);
    if (problem !== null)
      log.error({ reason: problem }, 'admin: cannot read peer credentials; requests will be refused');
    // Refused before any byte is read: closing is the whole answer (logged, rate-limited, by the limiter).
    if (!perUid.admit(creds.get(socket)?.uid ?? null, socket)) socket.destroy();
  });

  const callers = new WeakMap<FastifyRequest, Caller>();
  const callerOf = (request: FastifyRequest): Caller => {
    const caller = callers.get(request);
    // onRequest has run for every routed request; a missing caller is a bug, and the error handler answers 500.
    if (caller === undefined) throw new Error('admin request without a resolved caller');
    return caller;
  };

  app.addHook('onRequest', (request, reply, done) => {
    const peer = creds.get(request.raw.socket);
    if (peer === undefined) {
      sendError(reply, 'INTERNAL', 'peer credentials unavailable');
      return;
    }
    try {
      callers.set(request, resolveCaller(peer, ctx.policy.current().adminGroup, ctx.nss));
    } catch (e) {
      // NSS failing must not turn into access: refuse.
      log.error({ err: e, uid: peer.uid }, 'admin: cannot resolve the caller');
      sendError(reply, 'INTERNAL', 'cannot resolve the caller');
      return;
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const caller = callers.get(request);
    const peer = creds.get(request.raw.socket);
    log.debug(
      {
        uid: caller?.uid ?? peer?.uid ?? null,
        admin: caller?.admin ?? false,
        method: request.method,
        url: escapeControl(request.url, 512),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'admin request',
    );
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, validation, message } = errorStatus(error);
    if (validation) {
      sendError(reply, 'REQUEST_INVALID', escapeControl(message, 512));
      return;
    }
    if (status === 413) {
      sendError(reply, 'REQUEST_TOO_LARGE', 'request body too large');
      return;
    }
    if (status !== null && status >= 400 && status < 500) {
      sendError(reply, 'REQUEST_INVALID', escapeControl(message, 512));
      return;
    }
    log.error({ err: error, method: request.method, url: escapeControl(request.url, 512) }, 'admin: request failed');
    sendError(reply, 'INTERNAL', 'internal error');
  });

  app.setNotFoundHandler((_request, reply) => {
    sendError(reply, 'NOT_FOUND', 'no such route');
  });

  registerRoutes(app, ctx, callerOf, {
    ...(opts.auditDeadlineMs === undefined ? {} : { auditDeadlineMs: opts.auditDeadlineMs }),
  });
  return app;
}

/** A stale socket from an earlier daemon is removed; anything else at the path is left alone and refused. */
function removeStaleSocket(socketPath: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch (e) {
    if (e instanceof Error && Reflect.get(e, 'code') === 'ENOENT') return;
    throw e;
  }
  if (!stat.isSocket()) throw new Error(`refusing to replace ${socketPath}: it exists and is not a socket`);
  fs.unlinkSync(socketPath);
}

export async function startAdminServer(ctx: AdminContext, opts: AdminServerOptions): Promise<AdminServer> {
  removeStaleSocket(opts.socketPath);
  const app = buildAdminApp(ctx, new ConnectionCredentials(), opts);
  try {
    await app.listen({ path: opts.socketPath });
    // Between bind and chmod the socket has the umask's mode. That window grants nothing: every request is
    // authorised from SO_PEERCRED, the mode only narrows who may connect at all.
    fs.chmodSync(opts.socketPath, opts.socketMode);
    fs.chownSync(opts.socketPath, 0, opts.groupGid ?? 0);
  } catch (e) {
    await app.close();
    throw e;
  }
  ctx.log.info(
    { socket: opts.socketPath, mode: opts.socketMode.toString(8), gid: opts.groupGid ?? 0 },
    'admin API listening',
  );
  return {
    close: async () => {
      await app.close();
      // libuv unlinks the path on close; this is for a listener that did not.
      try {
        if (fs.lstatSync(opts.socketPath).isSocket()) fs.unlinkSync(opts.socketPath);
      } catch {
        // already gone
      }
    },
    setGroup: (gid) => {
      try {
        fs.chownSync(opts.socketPath, 0, gid ?? 0);
      } catch (e) {
        ctx.log.error({ err: e, socket: opts.socketPath, gid }, 'admin: cannot change the socket group');
      }
    },
  };
}
