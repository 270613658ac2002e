// One admin API request over the fixture's admin socket, made by a child process running as the given user
// (SO_PEERCRED is what the API authorises by, so the request must really come from that uid).
import { spawnSync } from 'node:child_process';
import type { TestUser } from './fixture';

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
}

const CLIENT = `
const http = require('node:http');
const [socketPath, method, path] = process.argv.slice(1);
const req = http.request({ socketPath, method, path, headers: method === 'POST' ? { 'content-type': 'application/json' } : {} }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => (body += d));
  res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, contentType: res.headers['content-type'] ?? '', body })));
});
req.on('error', (e) => { process.stdout.write(JSON.stringify({ status: 0, contentType: '', body: e.code ?? String(e) })); });
req.end(method === 'POST' ? '{}' : undefined);
`;

export function adminRequest(socket: string, method: 'GET' | 'POST', path: string, as?: TestUser): AdminResponse {
  const r = spawnSync(process.execPath, ['-e', CLIENT, socket, method, path], {
    encoding: 'utf8',
    timeout: 10_000,
    ...(as === undefined ? {} : { uid: as.uid, gid: as.gid }),
  });
  if (r.status !== 0) throw new Error(`admin request failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as AdminResponse;
}

/** The response body parsed as JSON; the caller names the shape it asserts on. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape
export function adminJson<T>(
  socket: string,
  method: 'GET' | 'POST',
  path: string,
  as?: TestUser,
): { status: number; json: T } {
  const r = adminRequest(socket, method, path, as);
  return { status: r.status, json: JSON.parse(r.body) as T };
}
