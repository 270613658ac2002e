// The session reports the program's end as soon as init's record arrives, before the helper has walked the changes
// and exited; the end (with the changes) follows with the same result. Run with a stand-in helper: /bin/sh reading
// its script from fd 0, where the plan would be, and writing status records to fd 3 (one write, one record).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import * as native from '../../native/addon/index';
import type { HelperBinary } from '../../daemon/helper-binary';
import { Session, type ChangesSummary, type ProgramResult, type SessionResult } from '../../daemon/session/session';

interface Seen {
  events: string[];
  exited: ProgramResult | null;
  ended: { result: SessionResult; changes: ChangesSummary | null } | null;
  logs: { msg: string }[];
}

const SH: HelperBinary = { path: '/bin/sh', fd: native.openExecutable('/bin/sh') };

/** Runs `script` as the helper; `onExited` may answer the session (the test's go). Resolves at onEnded. */
function run(script: string, onExited: (session: Session) => void = () => undefined): Promise<Seen> {
  const seen: Seen = { events: [], exited: null, ended: null, logs: [] };
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        seen.logs.push(JSON.parse(line) as { msg: string });
      done();
    },
  });
  return new Promise((resolve) => {
    const session: Session = new Session('t', SH, pino({ level: 'info' }, sink), {
      onStarted: () => seen.events.push('started'),
      onStopped: () => seen.events.push('stopped'),
      onNotice: () => seen.events.push('notice'),
      onExited: (result) => {
        seen.events.push('exited');
        seen.exited = result;
        onExited(session);
      },
      onEnded: (result, changes) => {
        seen.events.push('ended');
        seen.ended = { result, changes };
        resolve(seen);
      },
    });
    session.start(Buffer.from(script), []);
  });
}

describe('session end', () => {
  it("reports init's exit before the helper has finished, then ends with the same result and the changes", async () => {
    // The helper goes on only once the test has seen the exit and sent `go`: the order cannot be the other way.
    const seen = await run(
      `printf 'started 42' >&3
printf 'exit 7' >&3
timeout 5 dd bs=64 count=1 <&3 >/dev/null 2>&1
printf 'changes 1 0' >&3
printf 'changed notes.md' >&3
exit 7
`,
      (session) => {
        session.go();
      },
    );
    assert.deepEqual(seen.events, ['started', 'exited', 'ended']);
    assert.deepEqual(seen.exited, { kind: 'exited', code: 7 });
    assert.deepEqual(seen.ended, {
      result: { kind: 'exited', code: 7 },
      changes: { count: 1, truncated: false, paths: ['notes.md'] },
    });
  });

  it('reports a program killed by a signal likewise', async () => {
    const seen = await run(`printf 'started 42' >&3\nprintf 'signal 9' >&3\nexit 137\n`);
    assert.deepEqual(seen.exited, { kind: 'signaled', signal: 9 });
    assert.deepEqual(seen.ended?.result, { kind: 'signaled', signal: 9 });
  });

  it('does not report an exit after an error record: the session fails at its end', async () => {
    const seen = await run(
      `printf 'started 42' >&3\nprintf 'error 127 exec: nope: No such file or directory' >&3\nprintf 'exit 127' >&3\nexit 127\n`,
    );
    assert.deepEqual(seen.events, ['started', 'ended']);
    assert.equal(seen.ended?.result.kind, 'failed');
  });

  it('does not report an exit before started', async () => {
    const seen = await run(`printf 'exit 0' >&3\nexit 0\n`);
    assert.deepEqual(seen.events, ['ended']);
    assert.equal(seen.ended?.result.kind, 'exited');
  });

  it('keeps the reported result when the helper misbehaves afterwards, and logs it', async () => {
    const seen = await run(`printf 'started 42' >&3\nprintf 'exit 3' >&3\nprintf 'bogus' >&3\nexec sleep 5\n`);
    assert.deepEqual(seen.events, ['started', 'exited', 'ended']);
    assert.deepEqual(seen.ended?.result, { kind: 'exited', code: 3 });
    assert.ok(
      seen.logs.some((l) => l.msg === 'sandbox helper misbehaved after the program ended'),
      JSON.stringify(seen.logs),
    );
  });
});
