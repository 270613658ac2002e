#!/usr/bin/env python3
"""Drive native/build/jai-helper the way jaid does, for the C-level smoke tests.

The helper gets: fd 0 the plan (a pipe), fd 1 /dev/null, fd 2 a diagnostics pipe, fd 3 the helper end of an
AF_UNIX SOCK_SEQPACKET socketpair, and the extra fds given with --fd. Status records are written one per line to
--records (the pty record as "pty" after its fd was received). Program output (pipe-out fds and the pty) goes to
stdout, the helper's diagnostics to stderr. The exit code is the helper's (or 128+signal).

--fd N=grant:PATH   an O_PATH directory fd of PATH (opened as --as-uid/--as-gid when given, like the daemon would)
--fd N=out          a pipe; what the program writes to it is copied to stdout
--fd N=in:TEXT      a pipe pre-filled with TEXT then closed
--fd N=null         /dev/null
--fd N=raw:M        the driver's own fd M (e.g. to pass a non-socket as fd 3)

--go send|eof|bad   for a plan with `go wait`: send the daemon's `go` packet at once, shut the socket's sending side
                    instead (the daemon went away), or send another packet
--zygote            as jaid does by default: start `jai-helper --zygote` and have it fork the helper (with the same
                    fds, a gap filled with /dev/null) instead of exec'ing the helper; the forked helper is this
                    process's child (CLONE_PARENT). The zygote must exit 0 at its socket's EOF.
"""
import argparse
import array
import os
import select
import signal
import socket
import sys
import threading
import time


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--helper", required=True)
    ap.add_argument("--plan", required=True, help="file with the NUL-separated plan ('-' for stdin)")
    ap.add_argument("--fd", action="append", default=[])
    ap.add_argument("--records", required=True)
    ap.add_argument("--pty-input", default=None, help="bytes written to the pty master once started")
    ap.add_argument("--signal-when", default=None, help="TEXT:SIGNAL: send SIGNAL to the helper when TEXT is output")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--no-status-socket", action="store_true", help="give fd 3 as a plain pipe instead")
    ap.add_argument("--as-uid", type=int, default=None)
    ap.add_argument("--as-gid", type=int, default=None)
    ap.add_argument("--go", choices=["send", "eof", "bad"], default=None)
    ap.add_argument("--zygote", action="store_true")
    return ap.parse_args()


def open_grant(path, uid, gid):
    """Open PATH O_PATH|O_DIRECTORY, as uid/gid if given (a forked child opens it and sends it back)."""
    if uid is None:
        return os.open(path, os.O_PATH | os.O_DIRECTORY)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            fd = os.open(path, os.O_PATH | os.O_DIRECTORY)
            socket.send_fds(b, [b"fd"], [fd])
            os._exit(0)
        except OSError as e:
            b.send(("err " + str(e)).encode())
            os._exit(1)
    b.close()
    msg, fds, _, _ = socket.recv_fds(a, 4096, 1)
    os.waitpid(pid, 0)
    a.close()
    if not fds:
        sys.exit("drive.py: cannot open grant %s: %s" % (path, msg.decode()))
    return fds[0]


def fork_by_zygote(helper, fds):
    """Start `helper --zygote`, have it fork a helper with fds as its 0..n-1, end the zygote; return the pid."""
    ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    devnull = os.open("/dev/null", os.O_RDWR)
    zpid = os.fork()
    if zpid == 0:
        try:
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            os.dup2(theirs.fileno(), 3)  # fd 2 stays ours: the zygote's own diagnostics
            os.closerange(4, 4096)
            os.execv(helper, [helper, "--zygote"])
        except BaseException as e:  # noqa
            os.write(2, ("drive.py zygote child: %r\n" % (e,)).encode())
        os._exit(99)
    theirs.close()
    os.close(devnull)
    socket.send_fds(ctl, [b"spawn"], fds)
    msg, got, _, _ = socket.recv_fds(ctl, 64, 1)
    ctl.close()
    for fd in got:
        os.close(fd)
    _, st = os.waitpid(zpid, 0)
    if not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 0:
        sys.exit("drive.py: the zygote ended with status %d after %r" % (st, msg))
    text = msg.decode(errors="replace")
    if not text.startswith("pid ") or len(got) != 1:
        sys.exit("drive.py: zygote answered %r with %d fds" % (text, len(got)))
    return int(text[4:])


def main():
    args = parse_args()
    if args.plan == "-":
        plan = sys.stdin.buffer.read()
    else:
        with open(args.plan, "rb") as f:
            plan = f.read()

    parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    plan_r, plan_w = os.pipe()
    diag_r, diag_w = os.pipe()
    devnull = os.open("/dev/null", os.O_RDWR)

    mapping = {}  # target fd -> source fd in this process
    outs = []  # read ends of pipe-out fds
    to_close_after_fork = [plan_r, diag_w]
    if args.no_status_socket:
        r, w = os.pipe()
        mapping[3] = w
        to_close_after_fork.append(w)
    else:
        mapping[3] = child_sock.fileno()
    for spec in args.fd:
        num, _, what = spec.partition("=")
        num = int(num)
        if what.startswith("grant:"):
            src = open_grant(what[len("grant:"):], args.as_uid, args.as_gid)
        elif what == "out":
            r, src = os.pipe()
            outs.append(r)
        elif what.startswith("in:"):
            src, w = os.pipe()
            os.write(w, what[3:].encode())
            os.close(w)
        elif what == "null":
            src = os.open("/dev/null", os.O_RDWR)
        elif what.startswith("raw:"):
            src = int(what[4:])
        else:
            sys.exit("drive.py: bad --fd " + spec)
        mapping[num] = src
        to_close_after_fork.append(src)

    if args.zygote:
        # A request's fds are 0..n-1: a gap gets /dev/null, which the helper closes as any fd its plan does not
        # name (as the exec'd helper finds that fd closed).
        top = max(mapping)
        pid = fork_by_zygote(args.helper, [plan_r, devnull, diag_w] + [mapping.get(t, devnull) for t in range(3, top + 1)])
    else:
        pid = os.fork()
    if pid == 0:
        try:
            # Move every source out of the way first so the dup2 below cannot clobber one.
            high = {}
            base = 200
            for i, (tgt, src) in enumerate(sorted(mapping.items())):
                high[tgt] = os.dup2(src, base + i, inheritable=True)
            os.dup2(plan_r, 0)
            os.dup2(devnull, 1)
            os.dup2(diag_w, 2)
            for tgt, h in high.items():
                os.dup2(h, tgt)
            keep = sorted(set([0, 1, 2] + list(mapping.keys())))
            # close everything else
            prev = 0
            for k in keep:
                if k > prev:
                    os.closerange(prev, k)
                prev = k + 1
            os.closerange(prev, 4096)
            os.execv(args.helper, [args.helper])
        except BaseException as e:  # noqa
            os.write(2, ("drive.py child: %r\n" % (e,)).encode())
        os._exit(99)

    child_sock.close()
    for fd in to_close_after_fork:
        os.close(fd)

    def feed():
        try:
            os.write(plan_w, plan) if len(plan) < 65536 else None
            if len(plan) >= 65536:
                view = memoryview(plan)
                while view:
                    n = os.write(plan_w, view[:65536])
                    view = view[n:]
        except OSError:
            pass
        finally:
            os.close(plan_w)

    threading.Thread(target=feed, daemon=True).start()
    if args.go == "send":
        parent_sock.send(b"go")
    elif args.go == "bad":
        parent_sock.send(b"gx")
    elif args.go == "eof":
        parent_sock.shutdown(socket.SHUT_WR)

    records = open(args.records, "w")
    master = None
    out = sys.stdout.buffer
    seen_output = b""
    signal_when = None
    if args.signal_when:
        text, _, sig = args.signal_when.rpartition(":")
        signal_when = (text.encode(), getattr(signal, sig) if not sig.isdigit() else int(sig))
    readers = {parent_sock.fileno(): "status", diag_r: "diag"}
    for r in outs:
        readers[r] = "out"
    deadline = time.monotonic() + args.timeout
    exit_status = None
    started = False
    pty_input_sent = False

    while readers or exit_status is None:
        if time.monotonic() > deadline:
            sys.stderr.write("drive.py: timeout, killing the helper\n")
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            args.timeout = 0
        if exit_status is None:
            r, st = os.waitpid(pid, os.WNOHANG)
            if r == pid:
                exit_status = st
        if not readers:
            time.sleep(0.01)
            continue
        ready, _, _ = select.select(list(readers), [], [], 0.05)
        for fd in ready:
            kind = readers[fd]
            if kind == "status":
                try:
                    msg, fds, flags, _ = socket.recv_fds(parent_sock, 8192, 4)
                except OSError as e:
                    sys.stderr.write("drive.py: recvmsg: %s\n" % e)
                    del readers[fd]
                    continue
                if not msg and not fds:
                    del readers[fd]
                    continue
                text = msg.decode(errors="replace")
                records.write(text + "\n")
                records.flush()
                if text == "pty":
                    if len(fds) != 1:
                        sys.exit("drive.py: pty record with %d fds" % len(fds))
                    master = fds[0]
                    readers[master] = "pty"
                else:
                    for extra in fds:
                        os.close(extra)
                        sys.stderr.write("drive.py: unexpected fd on record %r\n" % text)
                if text.startswith("started"):
                    started = True
                if started and master is not None and args.pty_input and not pty_input_sent:
                    os.write(master, args.pty_input.encode())
                    pty_input_sent = True
            else:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO on the pty master once the slave is gone
                    data = b""
                if not data:
                    del readers[fd]
                    os.close(fd)
                    continue
                if kind == "diag":
                    sys.stderr.buffer.write(data)
                    sys.stderr.flush()
                else:
                    out.write(data)
                    out.flush()
                    seen_output += data
                    if signal_when and signal_when[0] in seen_output:
                        os.kill(pid, signal_when[1])
                        signal_when = None
    records.close()
    if os.WIFEXITED(exit_status):
        sys.exit(os.WEXITSTATUS(exit_status))
    sys.exit(128 + os.WTERMSIG(exit_status))


if __name__ == "__main__":
    main()
