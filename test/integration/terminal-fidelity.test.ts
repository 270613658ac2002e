// Terminal and process fidelity: signals without a PTY, mixed stdio, TIOCSTI injection, large output bursts.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import {
  REPO,
  jaiCommand,
  runInTerminal,
  runInTerminalBytes,
  spawnJai,
  startFixture,
  type Fixture,
} from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('terminal and process fidelity', { skip }, () => {
  let f: Fixture;
  let tiocsti: string;
  let pgrpStop: string;
  let legacyTiocsti: string | null = null;
  const sysctl = '/proc/sys/dev/tty/legacy_tiocsti';
  before(async () => {
    f = await startFixture('fidelity');
    tiocsti = path.join(f.project, 'tiocsti');
    execFileSync('cc', ['-o', tiocsti, path.join(REPO, 'test/helpers/tiocsti.c')]);
    pgrpStop = path.join(f.project, 'pgrp-stop');
    execFileSync('cc', ['-o', pgrpStop, path.join(REPO, 'test/helpers/pgrp-stop.c')]);
    // Let the kernel accept TIOCSTI at all, so that the refusal seen is the jail's seccomp filter, not the sysctl.
    if (fs.existsSync(sysctl)) {
      legacyTiocsti = fs.readFileSync(sysctl, 'utf8');
      fs.writeFileSync(sysctl, '1');
    }
  });
  after(async () => {
    if (legacyTiocsti !== null) fs.writeFileSync(sysctl, legacyTiocsti);
    await f.teardown();
  });

  it('forwards SIGINT without a PTY, and a trapping program finishes its handler', async () => {
    const child = spawnJai(f, [
      'bash',
      '-c',
      'trap "echo trapped; exit 7" INT; echo ready; while :; do sleep 0.1; done',
    ]);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out === 'ready\n') child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(out, 'ready\ntrapped\n');
    assert.equal(code, 7);
  });

  it('forwards SIGHUP (the terminal closed) to the job, which dies of it: exit 129', async () => {
    const child = spawnJai(f, ['sh', '-c', 'echo ready; exec sleep 30']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out === 'ready\n') child.kill('SIGHUP');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 128 + 1);
  });

  it('gives a PTY session its SIGHUP grace when the client is killed (the terminal hang-up does not kill init)', async () => {
    const marker = path.join(f.project, 'hup-ran');
    const script = `trap "echo hup > ${marker}; exit 3" HUP; echo ready; while :; do sleep 0.1; done`;
    const run = runInTerminal(f, jaiCommand(f, ['bash', '-c', script]));
    const clientPid = async (): Promise<number> => {
      for (let i = 0; i < 100; i++) {
        const found = spawnSync('pgrep', ['-f', '-u', String(f.user.uid), 'bin/jai bash -c trap'], {
          encoding: 'utf8',
        });
        const pid = found.stdout.trim().split('\n')[0] ?? '';
        if (pid !== '') return Number(pid);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('the client never started');
    };
    await new Promise((r) => setTimeout(r, 800));
    process.kill(await clientPid(), 'SIGKILL');
    await run;
    for (let i = 0; i < 100 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(fs.readFileSync(marker, 'utf8'), 'hup\n', 'the program ran its SIGHUP handler');
  });

  it('keeps pipes and files as they are next to a terminal (jai cmd 2>err | cat)', async () => {
    const err = path.join(f.project, 'err.log');
    const jai = jaiCommand(f, [
      'sh',
      '-c',
      'echo to-stdout; echo to-stderr >&2; tty; test -t 1 || echo stdout-not-a-tty',
    ]);
    const { output } = await runInTerminal(f, `${jai} 2>${err} | cat`);
    const lines = output.replace(/\r/g, '').trim().split('\n');
    assert.deepEqual(lines, ['to-stdout', '/dev/pts/0', 'stdout-not-a-tty'], output);
    assert.equal(fs.readFileSync(err, 'utf8'), 'to-stderr\n');
  });

  it("refuses TIOCSTI in the jail (seccomp), which could only reach the jail's own PTY: the user's shell reads nothing", async () => {
    const marker = path.join(f.project, 'INJECTED');
    const jai = jaiCommand(f, [tiocsti, `touch ${marker}\n`]);
    const { output } = await runInTerminal(f, 'bash --norc --noprofile -i', [
      { atMs: 300, text: `${jai}; echo "jai=$?"\n` },
      { atMs: 1500, text: 'echo after\n' },
      { atMs: 2000, text: 'exit\n' },
    ]);
    assert.match(output, /ioctl\(TIOCSTI\): Operation not permitted/, output);
    assert.match(output, /jai=1/, output);
    assert.match(output, /after/);
    assert.equal(fs.existsSync(marker), false, 'the injected command never ran in the outer shell');
  });

  it('relays a stop of a job in its own foreground group, and fg gives that group the terminal back', async () => {
    const jai = jaiCommand(f, ['--command', '', pgrpStop]);
    const { output } = await runInTerminal(f, 'bash --norc --noprofile -i', [
      { atMs: 300, text: `${jai}\n` },
      { atMs: 1500, text: 'jobs; fg\n' },
      { atMs: 2700, text: 'exit\n' },
    ]);
    const text = output.replace(/\r/g, '');
    assert.match(text, /moved\n/, text);
    assert.match(text, /Stopped +.*jai/, text);
    assert.match(text, /continued foreground=1\n/, text);
  });

  it("falls back to SIGSTOP when the client's process group is orphaned, and continues on SIGCONT", async () => {
    // detached: jai is a session leader, so its process group is orphaned and SIGTSTP would be discarded.
    const child = spawn(process.execPath, [path.join(f.clientDir, 'bin/jai'), '--command', '', pgrpStop], {
      cwd: f.project,
      uid: f.user.uid,
      gid: f.user.gid,
      env: { HOME: f.user.home, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const pid = child.pid ?? 0;
    const state = (): string => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] ?? '';
    let stopped = false;
    for (let i = 0; i < 100 && !stopped; i++) {
      await new Promise((r) => setTimeout(r, 50));
      stopped = state() === 'T';
    }
    assert.ok(stopped, `jai stopped itself (output so far: ${out})`);
    process.kill(pid, 'SIGCONT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.equal(out, 'moved\ncontinued foreground=-1\n');
  });

  it('relays a 100 MB burst through the PTY without loss, even when the program exits right after', async () => {
    const size = 100_000_000;
    const jai = jaiCommand(f, ['sh', '-c', `head -c ${size} /dev/zero | tr '\\0' x`]);
    const { output, status } = await runInTerminal(f, jai, [], { timeoutMs: 120_000 });
    assert.equal(status, 0);
    assert.equal(output.length, size);
    assert.ok(/^x*$/.test(output), 'only the bytes written');
  });

  it('relays a pseudorandom binary stream byte for byte, in order, with its tail, when the program exits right after', async () => {
    // The jailed program makes its PTY raw (no ONLCR), so that the bytes it writes are the bytes the terminal gets;
    // the user's side is raw too (jai's stdin is the terminal). Every byte value occurs.
    const file = path.join(f.project, 'random.bin');
    const data = Buffer.alloc(24 * 1024 * 1024);
    for (let i = 0, x = 0x2545f491; i < data.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      data[i] = x & 0xff;
    }
    fs.writeFileSync(file, data);
    fs.chownSync(file, f.user.uid, f.user.gid);
    const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    try {
      const whole = await runInTerminalBytes(
        f,
        jaiCommand(f, ['sh', '-c', `stty raw -echo; cat ${file}; printf END`]),
        [],
        {
          timeoutMs: 120_000,
        },
      );
      assert.equal(whole.status, 0, whole.output.subarray(-200).toString());
      const expected = Buffer.concat([data, Buffer.from('END')]);
      assert.equal(whole.output.length, expected.length, 'nothing lost or duplicated');
      assert.equal(sha256(whole.output), sha256(expected), 'every byte, in order');
      // Short outputs, the program gone the moment it wrote them: the last bytes must still arrive, every time.
      for (let run = 0; run < 6; run++) {
        const size = 100_000 + run * 37_000;
        const short = await runInTerminalBytes(
          f,
          jaiCommand(f, ['sh', '-c', `stty raw -echo; head -c ${size} ${file}`]),
        );
        assert.equal(short.status, 0);
        assert.equal(short.output.length, size, `run ${run}: the whole output, tail included`);
        assert.ok(short.output.equals(data.subarray(0, size)), `run ${run}: the same bytes`);
      }
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('stops relaying cleanly: no output while the job is stopped or after jai exits, and the terminal is restored', async () => {
    // The job stops itself three times while a background process of the jail keeps writing: jai must not relay
    // from giving the terminal back to the shell until it has it again. Output written to the user's terminal while
    // it is restored (cooked: ONLCR) would show as CR CR LF, since the jail's PTY has already turned each LF into
    // CR LF. The shell answers each stop with a mark and `fg`; printf's octal escape keeps the end mark (END-A) out
    // of the typed command's echo.
    const program =
      '(i=0; while :; do i=$((i+1)); echo "flood $i"; done) & for k in 1 2 3; do sleep 0.4; kill -TSTP $$; done; ' +
      'kill $!; wait; printf "END-\\101\\n"';
    let tail = '';
    let stops = 0;
    let ended = false;
    const { output } = await runInTerminal(
      f,
      'bash --norc --noprofile -i',
      [
        { atMs: 300, text: 'before=$(stty -g)\n' },
        { atMs: 600, text: `${jaiCommand(f, ['sh', '-c', program])}\n` },
      ],
      {
        timeoutMs: 30_000,
        onOutput: (chunk, type) => {
          tail = (tail + chunk.toString('latin1')).slice(-300);
          if (/Stopped/.test(tail)) {
            tail = '';
            stops++;
            type(`echo MARK-${stops}; fg\n`);
          } else if (!ended && /END-A\r\n/.test(tail)) {
            tail = '';
            ended = true;
          } else if (ended && /\$ $/.test(tail)) {
            // The shell's prompt: jai is gone, what is typed now is the shell's.
            tail = '';
            type(
              'after=$(stty -g); [ "$before" = "$after" ] && echo RESTORED-OK; grep ^flags: /proc/$$/fdinfo/1; exit\n',
            );
          }
        },
      },
    );
    assert.equal(stops, 3, output.slice(-2000));
    assert.match(output, /flood \d+\r\n/, 'the program ran and its output was relayed');
    assert.equal(output.includes('\r\r\n'), false, 'no program output reached the restored (cooked) terminal');
    let from = 0;
    for (let k = 1; k <= 3; k++) {
      const stopped = output.indexOf('Stopped', from);
      const mark = output.indexOf(`MARK-${k}\r\n`, stopped);
      assert.ok(stopped > 0 && mark > stopped, `stop ${k}: ${output.slice(from, from + 2000)}`);
      assert.doesNotMatch(output.slice(stopped, mark), /flood \d+/, `stop ${k}: nothing relayed while stopped`);
      from = mark;
    }
    assert.match(output.slice(from), /END-A\r\n/, 'fg: the program went on to its end');
    assert.match(output, /RESTORED-OK/, "the terminal's settings are the same as before jai");
    const flags = /flags:\s+([0-7]+)/.exec(output.slice(from));
    assert.ok(flags?.[1] !== undefined, output.slice(-500));
    assert.equal(parseInt(flags[1], 8) & 0o4000, 0, "the shell's terminal is not left non-blocking");
  });
});
