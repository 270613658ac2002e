import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrace, sessionPhases } from '../../bench/spawn-phases';

const JAID = 100;
const CLIENT = 200;

/** One ftrace line; `at` in ms. */
function line(comm: string, pid: number, at: number, event: string, fields: string): string {
  return `${comm}-${pid}`.padStart(22) + `  [001] d..2. ${(at / 1000).toFixed(6)}: ${event}: ${fields}`;
}
const fork = (comm: string, pid: number, at: number, child: number, childComm = comm): string =>
  line(comm, pid, at, 'sched_process_fork', `comm=${comm} pid=${pid} child_comm=${childComm} child_pid=${child}`);
const enter = (comm: string, pid: number, at: number, nr: number): string =>
  line(comm, pid, at, 'sys_enter', `NR ${nr} (3, 7ffd23a96490, 4040, 0, 0, 0)`);
const leave = (comm: string, pid: number, at: number, nr: number, ret: number): string =>
  line(comm, pid, at, 'sys_exit', `NR ${nr} = ${ret}`);

/**
 * One session from `t` on, its processes numbered from `base`: request at t, the zygote's fork at t+2, init at
 * t+5, the program at t+7, its exec at t+8, its exit at t+10, init's record at t+10.5, Exited at t+11, read at
 * t+11.25. Noise a parser must not take for an anchor: jaid's send to the zygote and the helper's own records.
 */
function session(t: number, base: number, zygote: number, options: { idmap?: boolean } = {}): string[] {
  const [helper, init, program] = [base, base + 1, base + 2];
  return [
    enter('node', CLIENT, t, 46),
    leave('node', CLIENT, t + 0.01, 46, 67),
    enter('node', JAID, t + 1, 46), // the request to the zygote
    fork('jai-zygote', zygote, t + 2, helper),
    ...(options.idmap === true ? [fork('jai-helper', helper, t + 3, base + 9)] : []),
    enter('jai-helper', helper, t + 4, 44), // `started`
    fork('jai-helper', helper, t + 5, init),
    fork('jai-init', init, t + 7, program),
    line('true', program, t + 8, 'sched_process_exec', `filename=/usr/bin/true pid=${program} old_pid=${program}`),
    line('true', program, t + 10, 'sched_process_exit', `comm=true pid=${program} prio=120 group_dead=true`),
    enter('jai-init', init, t + 10.5, 44),
    enter('node', JAID, t + 11, 46),
    leave('node', CLIENT, t + 11.2, 47, -11),
    leave('node', CLIENT, t + 11.25, 47, 4),
    enter('jai-helper', helper, t + 11.5, 44), // the changes, after the exit record
  ];
}

describe('spawn phases from an ftrace', () => {
  it('splits each session of a loop into its phases, across a zygote replaced by its successor', () => {
    const text = [
      '# tracer: nop',
      ...session(1000, 300, 50),
      ...session(1012, 400, 60, { idmap: true }), // the successor zygote, and a strict helper's id-map child
      ...session(1024, 500, 60),
    ].join('\n');
    const phases = sessionPhases(parseTrace(text), { jaid: JAID, client: CLIENT });
    const expected = {
      request: 2,
      setup: 3,
      init: 2,
      preexec: 1,
      program: 2,
      reap: 0.5,
      report: 0.5,
      deliver: 0.25,
      turnaround: 0.75,
    };
    // The third has no next request: it is left out.
    assert.equal(phases.length, 2);
    for (const p of phases)
      for (const [phase, ms] of Object.entries(expected))
        assert.ok(Math.abs(p[phase as keyof typeof expected] - ms) < 1e-6, `${phase}: ${p[phase as keyof typeof p]}`);
  });

  it('reads fork, exec, exit and the system calls, and skips other lines', () => {
    const events = parseTrace(
      [
        '# entries-in-buffer/entries-written: 5/5   #P:2',
        fork('jai-zygote', 7, 1500, 8, 'jai-zygote'),
        enter('node', 9, 1500.5, 46),
        leave('node', 9, 1501, 47, -11),
        line('kworker/0:1-mm_percpu_wq', 11, 1502, 'sched_switch', 'prev_comm=x prev_pid=1'),
      ].join('\n'),
    );
    assert.deepEqual(events, [
      { ts: 1500, pid: 7, kind: 'fork', comm: 'jai-zygote', child: 8 },
      { ts: 1500.5, pid: 9, kind: 'enter', nr: 46 },
      { ts: 1501, pid: 9, kind: 'leave', nr: 47, ret: -11 },
    ]);
  });
});
