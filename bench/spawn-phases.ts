// Where an SDK session's time goes: the phases of each session of a loop, from an ftrace of jaid, its zygote (and,
// through event-fork, every helper, init and program) and the client. Pure: bench/spawn-trace.ts makes the trace.
//
// Events used (x86_64 system call numbers): sched_process_fork/exec/exit, and raw_syscalls sys_enter/sys_exit of
// sendto (44), sendmsg (46) and recvmsg (47).

export const SYS_SENDTO = 44;
export const SYS_SENDMSG = 46;
export const SYS_RECVMSG = 47;
const ZYGOTE = 'jai-zygote';

export type TraceEvent =
  | { ts: number; pid: number; kind: 'fork'; comm: string; child: number }
  | { ts: number; pid: number; kind: 'exec' }
  | { ts: number; pid: number; kind: 'exit' }
  | { ts: number; pid: number; kind: 'enter'; nr: number }
  | { ts: number; pid: number; kind: 'leave'; nr: number; ret: number };

// "  jai-helper-4242  [001] d..2.  123.456789: sched_process_fork: comm=… pid=4242 child_comm=… child_pid=4243"
const LINE = /^\s*.+?-(\d+)\s+\[\d+\]\s+(?:\S+\s+)?(\d+\.\d+): (\w+): (.*)$/;

/** The events of an ftrace text (the `trace` file), in its order; timestamps in ms. Other lines are skipped. */
export function parseTrace(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (m === null) continue;
    const [, pidText, tsText, name, rest] = m as unknown as [string, string, string, string, string];
    const pid = Number(pidText);
    const ts = Number(tsText) * 1000;
    if (name === 'sched_process_fork') {
      const fork = /^comm=(.*) pid=\d+ child_comm=.* child_pid=(\d+)/.exec(rest);
      if (fork !== null) events.push({ ts, pid, kind: 'fork', comm: fork[1] ?? '', child: Number(fork[2]) });
    } else if (name === 'sched_process_exec') events.push({ ts, pid, kind: 'exec' });
    else if (name === 'sched_process_exit') events.push({ ts, pid, kind: 'exit' });
    else if (name === 'sys_enter') {
      const nr = /^NR (\d+)/.exec(rest);
      if (nr !== null) events.push({ ts, pid, kind: 'enter', nr: Number(nr[1]) });
    } else if (name === 'sys_exit') {
      const nr = /^NR (\d+) = (-?\d+)/.exec(rest);
      if (nr !== null) events.push({ ts, pid, kind: 'leave', nr: Number(nr[1]), ret: Number(nr[2]) });
    }
  }
  return events;
}

/** The phases of one session, each a duration in ms; a session missing an anchor has none. */
export const PHASES = [
  ['request', 'client request → zygote forks the helper (jaid’s admission, the zygote’s wake-up)'],
  ['setup', 'helper forked → it clones init (the host side, the jail’s mounts)'],
  ['init', 'init cloned → init forks the program (cgroups, the go, /proc)'],
  ['preexec', 'program forked → exec (credentials, seccomp, …)'],
  ['program', 'exec → the program’s exit (`true` itself)'],
  ['reap', 'program exit → init’s exit record'],
  ['report', 'init’s record → jaid sends Exited'],
  ['deliver', 'jaid sends Exited → the client has read it'],
  ['turnaround', 'the client has read Exited → its next request'],
] as const;
export type Phase = (typeof PHASES)[number][0];

interface Anchors {
  request: number;
  fork: number;
  helper: number;
  init?: number;
  initAt?: number;
  program?: number;
  programAt?: number;
  execAt?: number;
  exitAt?: number;
  recordAt?: number;
  exitedAt?: number;
  readAt?: number;
  nextAt?: number;
}

export interface Pids {
  jaid: number;
  client: number;
}

/**
 * The sessions of a sequential loop (one request at a time on one connection), anchored on the forks of jaid's
 * zygotes (a zygote is replaced after 64 forks: any process named jai-zygote): each session's phases, for the
 * sessions whose anchors were all seen. Helpers exec'd without a zygote (`--helper-zygote off`) are not seen.
 */
export function sessionPhases(events: readonly TraceEvent[], pids: Pids): Record<Phase, number>[] {
  const sessions: Anchors[] = [];
  let lastRequest: number | null = null;
  let awaitingExited: Anchors | null = null;
  let awaitingRead: Anchors | null = null;
  let awaitingNext: Anchors | null = null;
  const ofHelper = new Map<number, Anchors>();
  const ofInit = new Map<number, Anchors>();
  const ofProgram = new Map<number, Anchors>();
  for (const e of events) {
    if (e.kind === 'fork') {
      if (e.comm === ZYGOTE && lastRequest !== null) {
        const s: Anchors = { request: lastRequest, fork: e.ts, helper: e.child };
        sessions.push(s);
        ofHelper.set(e.child, s);
        lastRequest = null;
        continue;
      }
      // The helper's last fork before init's own is init (strict mode forks an id-map child first).
      const byHelper = ofHelper.get(e.pid);
      if (byHelper !== undefined && byHelper.program === undefined) {
        if (byHelper.init !== undefined) ofInit.delete(byHelper.init);
        byHelper.init = e.child;
        byHelper.initAt = e.ts;
        ofInit.set(e.child, byHelper);
        continue;
      }
      const byInit = ofInit.get(e.pid);
      if (byInit !== undefined && byInit.program === undefined) {
        byInit.program = e.child;
        byInit.programAt = e.ts;
        ofProgram.set(e.child, byInit);
      }
    } else if (e.kind === 'exec') {
      const s = ofProgram.get(e.pid);
      if (s !== undefined && s.execAt === undefined) s.execAt = e.ts;
    } else if (e.kind === 'exit') {
      const s = ofProgram.get(e.pid);
      if (s !== undefined && s.exitAt === undefined) s.exitAt = e.ts;
    } else if (e.kind === 'enter') {
      if (e.nr === SYS_SENDTO) {
        const s = ofInit.get(e.pid);
        if (s !== undefined && s.exitAt !== undefined && s.recordAt === undefined) {
          s.recordAt = e.ts;
          awaitingExited = s;
        }
      } else if (e.nr === SYS_SENDMSG && e.pid === pids.jaid && awaitingExited !== null) {
        awaitingExited.exitedAt = e.ts;
        awaitingRead = awaitingExited;
        awaitingExited = null;
      } else if (e.nr === SYS_SENDMSG && e.pid === pids.client) {
        lastRequest = e.ts;
        if (awaitingNext !== null) awaitingNext.nextAt = e.ts;
        awaitingNext = null;
      }
    } else if (e.pid === pids.client && e.nr === SYS_RECVMSG && e.ret > 0 && awaitingRead !== null) {
      awaitingRead.readAt = e.ts;
      awaitingNext = awaitingRead;
      awaitingRead = null;
    }
  }
  const complete: Record<Phase, number>[] = [];
  for (const s of sessions) {
    const { initAt, programAt, execAt, exitAt, recordAt, exitedAt, readAt, nextAt } = s;
    if (
      initAt === undefined ||
      programAt === undefined ||
      execAt === undefined ||
      exitAt === undefined ||
      recordAt === undefined ||
      exitedAt === undefined ||
      readAt === undefined ||
      nextAt === undefined
    )
      continue;
    complete.push({
      request: s.fork - s.request,
      setup: initAt - s.fork,
      init: programAt - initAt,
      preexec: execAt - programAt,
      program: exitAt - execAt,
      reap: recordAt - exitAt,
      report: exitedAt - recordAt,
      deliver: readAt - exitedAt,
      turnaround: nextAt - readAt,
    });
  }
  return complete;
}
