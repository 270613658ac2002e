// The admin API client: HTTP/1.1 over the admin Unix socket with node:http alone. Every outcome is a value; the
// caller turns failures into exit codes (connect and timeout: 3, anything the daemon answers: 1).
import http from 'node:http';

export type ApiFailure =
  /** The socket could not be reached (ENOENT, EACCES, ECONNREFUSED, …). */
  | { kind: 'connect'; socket: string; code: string }
  | { kind: 'timeout'; socket: string; seconds: number }
  /** The daemon answered with an error status and, normally, `{ error: { code, message } }`. */
  | { kind: 'refused'; status: number; code: string; message: string }
  /** Not an answer jaictl understands, or the connection broke in the middle of one. */
  | { kind: 'protocol'; message: string };

export type ApiResult<T> = { ok: true; value: T } | { ok: false; failure: ApiFailure };

/** A JSON body bigger than this (in characters) is not an answer this client asked for. */
const MAX_BODY = 64 * 1024 * 1024;
const TIMEOUT_SECONDS = 30;

function errorCode(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return e instanceof Error ? e.message : String(e);
}

function isConnectError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'syscall' in e && e.syscall === 'connect';
}

function refusal(status: number, statusMessage: string | undefined, body: string): ApiFailure {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const error: unknown = parsed.error;
      if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') {
        const code = 'code' in error && typeof error.code === 'string' ? error.code : `HTTP_${status}`;
        return { kind: 'refused', status, code, message: error.message };
      }
    }
  } catch {
    // Not JSON: fall through to the status line.
  }
  return { kind: 'refused', status, code: `HTTP_${status}`, message: `HTTP ${status} ${statusMessage ?? ''}`.trim() };
}

/** The body's consumer gave up (an answer too big, stdout gone): not the connection's fault. */
class SinkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

export interface BodySink {
  /** Called with each piece of a successful body as it arrives; the next piece waits for the promise. */
  write(text: string): Promise<void>;
}

export class AdminClient {
  constructor(
    readonly socket: string,
    private readonly timeoutSeconds = TIMEOUT_SECONDS,
  ) {}

  async getJson(path: string): Promise<ApiResult<unknown>> {
    return this.json('GET', path);
  }

  async postJson(path: string): Promise<ApiResult<unknown>> {
    return this.json('POST', path);
  }

  /** A successful body handed to `sink` as it arrives (never held whole); an error body is read and decoded. */
  async stream(path: string, sink: BodySink): Promise<ApiResult<null>> {
    return this.request('GET', path, sink, true);
  }

  private async json(method: 'GET' | 'POST', path: string): Promise<ApiResult<unknown>> {
    const chunks: string[] = [];
    let size = 0;
    const result = await this.request(
      method,
      path,
      {
        write: (text) => {
          size += text.length;
          if (size > MAX_BODY) return Promise.reject(new Error(`the answer is larger than ${MAX_BODY >> 20} MiB`));
          chunks.push(text);
          return Promise.resolve();
        },
      },
      false,
    );
    if (!result.ok) return result;
    try {
      return { ok: true, value: JSON.parse(chunks.join('')) as unknown };
    } catch {
      return { ok: false, failure: { kind: 'protocol', message: `${method} ${path}: the answer is not JSON` } };
    }
  }

  private request(method: 'GET' | 'POST', path: string, sink: BodySink, streaming: boolean): Promise<ApiResult<null>> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: ApiResult<null>): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const req = http.request({
        socketPath: this.socket,
        method,
        path,
        // No keep-alive agent: one request, then the socket closes and nothing holds the process.
        agent: false,
        headers: { host: 'localhost', accept: 'application/json, application/x-ndjson', connection: 'close' },
      });
      req.setTimeout(this.timeoutSeconds * 1000, () => {
        finish({ ok: false, failure: { kind: 'timeout', socket: this.socket, seconds: this.timeoutSeconds } });
        req.destroy();
      });
      req.on('error', (e: unknown) => {
        if (isConnectError(e))
          finish({ ok: false, failure: { kind: 'connect', socket: this.socket, code: errorCode(e) } });
        else
          finish({
            ok: false,
            failure: { kind: 'protocol', message: `connection to the daemon lost: ${errorCode(e)}` },
          });
      });
      req.on('response', (res) => {
        // A stream is paced by its reader (`jaictl audit --json | less`): only the wait for the answer is timed.
        if (streaming) req.setTimeout(0);
        res.setEncoding('utf8');
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        let errorBody = '';
        void (async () => {
          try {
            for await (const chunk of res as AsyncIterable<string>) {
              if (!ok) {
                if (errorBody.length < 65536) errorBody += chunk;
                continue;
              }
              try {
                await sink.write(chunk);
              } catch (e: unknown) {
                throw new SinkError(e);
              }
            }
            if (!res.complete) throw new Error('the answer ended early');
            finish(
              ok ? { ok: true, value: null } : { ok: false, failure: refusal(status, res.statusMessage, errorBody) },
            );
          } catch (e: unknown) {
            const message =
              e instanceof SinkError
                ? `${method} ${path}: ${e.message}`
                : `connection to the daemon lost: ${errorCode(e)}`;
            finish({ ok: false, failure: { kind: 'protocol', message } });
            req.destroy();
          }
        })();
      });
      req.end();
    });
  }
}
