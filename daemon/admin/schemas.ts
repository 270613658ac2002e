// JSON schemas of the admin API. Inputs: additionalProperties false (fastify's own ajv would otherwise drop
// unknown keys silently; server.ts turns that off so they are rejected). Outputs: what fast-json-stringify emits.
import { SESSION_STATES } from '../audit/session-view';
import { MAX_LIST_LIMIT } from '../audit/audit-log';
import { NETWORK_MODES } from '../policy/types';

/** ISO 8601: a date, or a date and time with seconds optional and a zone required (no local-time guessing). */
export const ISO_8601 = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2}))?$';
export const SESSION_ID = '^[0-9a-f]{32}$';

const isoTime = { type: 'string', maxLength: 40, pattern: ISO_8601 } as const;
const userName = { type: 'string', minLength: 1, maxLength: 256 } as const;

export const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
/** POST bodies: none, or an empty JSON object. */
export const noBody = { type: ['object', 'null'], additionalProperties: false, maxProperties: 0 } as const;

export const idParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: SESSION_ID } },
} as const;

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    user: userName,
    state: { type: 'string', enum: SESSION_STATES },
    since: isoTime,
    until: isoTime,
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT },
  },
} as const;

export const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { user: userName, since: isoTime, until: isoTime },
} as const;

export const errorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const strings = { type: 'array', items: { type: 'string' } } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const limitsProps = { memoryBytes: nullableNumber, pids: nullableNumber, cpu: nullableNumber } as const;
const limits = { type: 'object', required: ['memoryBytes', 'pids', 'cpu'], properties: limitsProps } as const;

const limitsStatus = {
  type: 'object',
  required: ['backend', 'enforced', 'detail'],
  properties: { backend: { type: 'string' }, enforced: { type: 'boolean' }, detail: { type: 'string' } },
} as const;

export const sessionView = {
  type: 'object',
  required: [
    'id',
    'uid',
    'user',
    'peerUid',
    'peerPid',
    'argv',
    'cwd',
    'mode',
    'jail',
    'grants',
    'masks',
    'network',
    'limits',
    'rule',
    'startedAt',
    'endedAt',
    'durationMs',
    'state',
    'exitCode',
    'signal',
    'errorCode',
    'error',
    'changes',
  ],
  properties: {
    id: { type: 'string' },
    uid: { type: 'integer' },
    user: { type: 'string' },
    peerUid: { type: 'integer' },
    peerPid: { type: 'integer' },
    argv: strings,
    cwd: { type: 'string' },
    mode: { type: 'string' },
    jail: { type: 'string' },
    grants: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'readOnly'],
        properties: { path: { type: 'string' }, readOnly: { type: 'boolean' } },
      },
    },
    masks: strings,
    network: { type: ['string', 'null'], enum: [...NETWORK_MODES, null] },
    limits: { type: ['object', 'null'], properties: limitsProps },
    rule: { type: 'string' },
    startedAt: { type: 'string' },
    endedAt: { type: ['string', 'null'] },
    durationMs: { type: ['integer', 'null'] },
    state: { type: 'string', enum: SESSION_STATES },
    exitCode: { type: ['integer', 'null'] },
    signal: { type: ['integer', 'null'] },
    errorCode: { type: ['string', 'null'] },
    error: { type: ['string', 'null'] },
    changes: {
      type: ['object', 'null'],
      properties: { count: { type: 'integer' }, truncated: { type: 'boolean' }, paths: strings },
    },
  },
} as const;

export const sessionList = {
  type: 'object',
  required: ['sessions'],
  properties: { sessions: { type: 'array', items: sessionView } },
} as const;

export const killResult = {
  type: 'object',
  required: ['id', 'killed'],
  properties: { id: { type: 'string' }, killed: { type: 'boolean' } },
} as const;

export const health = {
  type: 'object',
  required: ['status', 'version', 'startedAt', 'uptimeSeconds', 'activeSessions', 'limits', 'policy', 'audit'],
  properties: {
    status: { type: 'string' },
    version: { type: 'string' },
    startedAt: { type: 'string' },
    uptimeSeconds: { type: 'number' },
    activeSessions: { type: 'integer' },
    limits: limitsStatus,
    policy: {
      type: 'object',
      required: ['source', 'loadedAt'],
      properties: { source: { type: ['string', 'null'] }, loadedAt: { type: 'string' } },
    },
    audit: {
      type: 'object',
      required: ['writable', 'failureMode', 'failingSince', 'error', 'pendingEnds'],
      properties: {
        writable: { type: 'boolean' },
        failureMode: { type: 'string' },
        failingSince: { type: ['string', 'null'] },
        error: { type: ['string', 'null'] },
        pendingEnds: { type: 'integer' },
      },
    },
  },
} as const;

const settingsProps = {
  allowModes: strings,
  maxSessions: { type: 'integer' },
  network: { type: 'string' },
  allowUserns: { type: 'boolean' },
  allowKeyring: { type: 'boolean' },
  denyGrants: strings,
  masks: strings,
  unsetenv: strings,
} as const;

export const policy = {
  type: 'object',
  required: ['source', 'loadedAt', 'adminGroup', 'defaults', 'rules', 'limits'],
  properties: {
    source: { type: ['string', 'null'] },
    loadedAt: { type: 'string' },
    adminGroup: { type: ['string', 'null'] },
    defaults: {
      type: 'object',
      required: [
        'allowModes',
        'maxSessions',
        'network',
        'allowUserns',
        'allowKeyring',
        'denyGrants',
        'masks',
        'unsetenv',
        'limits',
      ],
      properties: { ...settingsProps, limits },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'users', 'groups', 'deny', 'overrides'],
        properties: {
          name: { type: 'string' },
          users: strings,
          groups: strings,
          deny: { type: 'boolean' },
          overrides: {
            type: 'object',
            properties: { ...settingsProps, limits: { type: 'object', properties: limitsProps } },
          },
        },
      },
    },
    limits: limitsStatus,
  },
} as const;

export const reloadResult = {
  type: 'object',
  required: ['ok', 'source', 'loadedAt'],
  properties: { ok: { type: 'boolean' }, source: { type: ['string', 'null'] }, loadedAt: { type: 'string' } },
} as const;

/** The error responses every route may give. */
export const errors = { '4xx': errorResponse, '5xx': errorResponse } as const;
