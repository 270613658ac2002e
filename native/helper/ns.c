/* ns.c — see ns.h.
 *
 * Signals: the outer helper blocks SIGHUP/SIGINT/SIGTERM/SIGQUIT/SIGCHLD before clone3 and waits for them with
 * sigwaitinfo; init inherits the blocked mask. A signal sent from an ancestor namespace to a PID-namespace init is
 * dropped when init has no handler — unless it is blocked: blocked signals are queued, and init takes them with
 * sigwaitinfo. So forwarding works from the first instruction of init, with no handler and no race.
 *
 * Ordering: init waits for one byte on a pipe that the helper writes only after sending `started`, so every record
 * init or the program sends comes after `started`; EOF on that pipe means the helper died before (PDEATHSIG is set
 * first, so a later death kills init). */
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "die.h"
#include "fdio.h"
#include "mount.h"
#include "path.h"

/* SIGCONT continues a stopped job (the client was continued: `fg`). */
static const int ns_forwarded[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGCONT };

static void ns_signal_set(sigset_t *set)
{
	size_t i;

	if (sigemptyset(set) < 0 || sigaddset(set, SIGCHLD) < 0)
		die_errno("sigaddset");
	for (i = 0; i < sizeof ns_forwarded / sizeof ns_forwarded[0]; i++)
		if (sigaddset(set, ns_forwarded[i]) < 0)
			die_errno("sigaddset(%d)", ns_forwarded[i]);
}

static void ns_close_io(const struct program_io *io)
{
	int i;

	for (i = 0; i < 3; i++)
		if (io->stdio[i] >= 0 && io->stdio[i] != io->pty_slave && close(io->stdio[i]) < 0)
			die_errno("close(stdio fd %d)", io->stdio[i]);
	if (io->pty_slave >= 0 && close(io->pty_slave) < 0)
		die_errno("close(pty slave)");
}

static void ns_mount_proc(void)
{
	int mnt, target;

	mount_detach_all("/proc");
	mnt = mount_new_fs("proc", NULL, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "/proc");
	target = path_open_dir("/proc", O_PATH, 0);
	if (target < 0)
		die_errno("open(/proc) in the jail");
	mount_move(mnt, target, "/proc");
	if (close(target) < 0 || close(mnt) < 0)
		die_errno("close(/proc)");
}

/* network loopback: lo of init's new network namespace up (a new namespace has lo, down). init is still root in the
 * initial user namespace, which owns the new network namespace: CAP_NET_ADMIN there. */
static void ns_loopback_up(void)
{
	struct ifreq ifr;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sock < 0)
		die_errno("socket(AF_INET, SOCK_DGRAM) (lo)");
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, "lo", sizeof "lo");
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		die_errno("ioctl(lo, SIOCGIFFLAGS)");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		die_errno("ioctl(lo, SIOCSIFFLAGS, IFF_UP)");
	if (close(sock) < 0)
		die_errno("close(socket (lo))");
}

/* The exit code and record for a wait status. */
static int ns_report(int status_fd, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	/* Best effort: the exit code carries the same information if the daemon is gone. */
	if (WIFEXITED(status))
		(void)fdio_send_record(status_fd, "exit %d", WEXITSTATUS(status));
	else
		(void)fdio_send_record(status_fd, "signal %d", WTERMSIG(status));
	/* jaid reports the exit at this record. A unix socket wakes its reader as a sync wakeup, which queues jaid on
	 * this CPU, behind init's exit (the jail's namespaces torn down: RCU waits, ~0.2 ms) even when another CPU is
	 * idle; yielding lets jaid go first. sched_yield cannot fail on Linux. */
	(void)sched_yield();
	return code;
}

/* init's copies of the program's stdio; the PTY slave stays: it is init's controlling terminal. */
static void ns_close_stdio(const struct program_io *io)
{
	int i;

	for (i = 0; i < 3; i++)
		if (io->stdio[i] >= 0 && io->stdio[i] != io->pty_slave && close(io->stdio[i]) < 0)
			die_errno("close(stdio fd %d)", io->stdio[i]);
}

/* A forwarded signal goes to the program's current process group (it may have moved to a group of its own), or to
 * the program itself if that group is gone. On SIGCONT the group first gets the terminal's foreground back. */
static void ns_forward(pid_t program, int sig, int pty_slave)
{
	pid_t group = getpgid(program);

	if (group < 0)
		group = program;
	/* Best effort: after a hang-up the terminal is gone (ENOTTY/EIO) and the signals must still be delivered. */
	if (sig == SIGCONT && pty_slave >= 0)
		(void)tcsetpgrp(pty_slave, group);
	if (kill(-group, sig) < 0 && errno == ESRCH && kill(program, sig) < 0 && errno != ESRCH)
		die_errno("kill(%d, %d)", (int)program, sig);
	/* A stopped job cannot act on a hang-up or termination until it runs again (what the tty layer does too). */
	if ((sig == SIGHUP || sig == SIGTERM) && kill(-group, SIGCONT) < 0 && errno != ESRCH)
		die_errno("kill(-%d, SIGCONT)", (int)group);
}

/* Whether the program's process may share init's memory until its exec. A second guard: creds_drop_final never leaves
 * that process the user's with dumpable memory; but with fs.suid_dumpable 1 (or unreadable) a setresuid to the user's
 * ids makes the memory dumpable, and a ptrace of it by a process of the user's would reach init, which is root. With
 * 0 or 2 it stays dumpable by root only. */
static bool ns_may_share_memory(void)
{
	char value[4];
	ssize_t n;
	int fd = open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, value, sizeof value);
	if (close(fd) < 0)
		die_errno("close(/proc/sys/fs/suid_dumpable)");
	return n == 2 && (value[0] == '0' || value[0] == '2') && value[1] == '\n';
}

/* The terminal's stop signals are ignored from here until the program's own reset just before its exec
 * (program_exec): a ^Z typed while PID 2 still runs on init's memory would leave init waiting for that exec until the
 * session is hung up. A stop signal sent while it is ignored is dropped. init itself ignores them anyway (a PID
 * namespace's init without a handler). */
static void ns_ignore_terminal_stops(void)
{
	struct sigaction ignore;

	memset(&ignore, 0, sizeof ignore);
	ignore.sa_handler = SIG_IGN;
	if (sigaction(SIGTSTP, &ignore, NULL) < 0 || sigaction(SIGTTIN, &ignore, NULL) < 0)
		die_errno("sigaction(SIGTSTP, SIGTTIN: SIG_IGN)");
}

static _Noreturn void ns_init(const struct plan *p, const struct program_io *io, int sync_fd, int joined_fd,
			      const int *held, size_t nheld, struct cgroup_procs *cg)
{
	char **environ_before;
	const char *stage_before;
	bool stderr_before;
	sigset_t set;
	pid_t program;
	char go;
	ssize_t n;
	size_t i;

	if (prctl(PR_SET_NAME, "jai-init", 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_NAME)");
	/* The host mounts stay pinned (and the changes dir held) by the outer helper; init and the program never hold
	 * those fds. */
	for (i = 0; i < nheld; i++)
		if (close(held[i]) < 0)
			die_errno("close(held fd %d)", held[i]);
	/* init joins the v1 cgroups itself (cgroup.c says why), then closes every cgroup fd: the program never holds
	 * one. The outer helper waits for the byte on joined_fd before it goes on (EOF: init died, and said why). */
	if (cgroup_join_self(cg, &i) < 0)
		die_errno("write(%s/%s, 0)", cg->dirs[i], cg->files[i]);
	cgroup_close(cg);
	if (joined_fd >= 0) {
		if (write(joined_fd, "j", 1) != 1)
			die_errno("write(joined pipe)");
		if (close(joined_fd) < 0)
			die_errno("close(joined pipe)");
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_PDEATHSIG)");
	do
		n = read(sync_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(DIE_SETUP); /* the helper died before `started`: nobody to report to */
	if (close(sync_fd) < 0)
		die_errno("close(sync pipe)");
	if (setsid() < 0)
		die_errno("setsid");
	/* init is the session leader with the PTY as controlling terminal; it hands the foreground to the program's
	 * group. SIGTTOU stays blocked so that init (in the background) may call tcsetpgrp. */
	if (io->pty_slave >= 0 && ioctl(io->pty_slave, TIOCSCTTY, 0) < 0)
		die_errno("ioctl(pty slave, TIOCSCTTY)");
	if (sigemptyset(&set) < 0 || sigaddset(&set, SIGTTOU) < 0 || sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die_errno("sigprocmask(SIG_BLOCK, SIGTTOU)");
	ns_mount_proc();
	if (p->network == PLAN_NET_LOOPBACK)
		ns_loopback_up();

	ns_ignore_terminal_stops();
	/* Where it is safe (ns_may_share_memory), the program's process runs on init's memory until its exec, init
	 * waiting meanwhile (vfork): fork's copy of init's page tables, the copy-on-write faults before the exec and the
	 * exec's teardown of the copy took ~1 ms of every session on the benchmark machine (docs/benchmarks.md). */
	environ_before = environ;
	stage_before = die_stage();
	stderr_before = die_stderr();
	if (ns_may_share_memory())
		program = vfork();
	else
		program = fork();
	if (program == 0)
		program_exec(p, io);
	if (program < 0)
		die_errno("fork (program)");
	/* What a vfork'ed child set for itself in this memory before its exec (program_exec) is set back; its setresuid
	 * set the memory's dumpability too, which it cleared again at once (creds_drop_final): said again here. */
	environ = environ_before;
	die_set_stage(stage_before);
	die_set_stderr(stderr_before);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_DUMPABLE, 0)");
	ns_close_stdio(io);

	ns_signal_set(&set);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);

		if (sig < 0 && errno == EINTR)
			continue;
		if (sig < 0)
			die_errno("sigwaitinfo");
		if (sig == SIGCHLD) {
			int status;
			pid_t r;

			while ((r = waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
				if (r != program)
					continue;
				/* The job stopped (^Z, SIGTSTP/TTIN/TTOU/STOP): the client stops itself the same way. */
				if (WIFSTOPPED(status)) {
					(void)fdio_send_record(p->status_fd, "stopped %d", WSTOPSIG(status));
					continue;
				}
				_exit(ns_report(p->status_fd, status));
			}
			if (r < 0 && errno != ECHILD)
				die_errno("waitpid");
			continue;
		}
		ns_forward(program, sig, io->pty_slave);
	}
}

static pid_t ns_clone3(const struct plan *p, const struct cgroup_procs *cg)
{
	struct clone_args args;

	memset(&args, 0, sizeof args);
	args.flags = CLONE_NEWPID | CLONE_NEWIPC;
	/* loopback and none: a network namespace of its own (lo only, down until ns_loopback_up). */
	if (p->network != PLAN_NET_HOST)
		args.flags |= CLONE_NEWNET;
	/* A cgroup v2 directory: init starts in it (no migration, see cgroup.c). */
	if (cg->into_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cg->into_fd;
	}
	args.exit_signal = SIGCHLD;
	return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

/* Waits until init has joined its v1 cgroups (a byte on joined_fd, closed here). EOF: init died first; it sent the
 * error record itself, so the helper ends with init's status and no record of its own (unless init had none). */
static void ns_await_joined(int joined_fd, pid_t init)
{
	ssize_t n;
	char c;
	int status;

	do
		n = read(joined_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die_errno("read(joined pipe)");
	if (n == 1) {
		if (close(joined_fd) < 0)
			die_errno("close(joined pipe)");
		return;
	}
	(void)kill(init, SIGKILL);
	while (waitpid(init, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid(init %d)", (int)init);
	if (WIFEXITED(status) && WEXITSTATUS(status) == DIE_SETUP)
		_exit(DIE_SETUP);
	die("jai-init ended before it joined the session's cgroups");
}

int ns_run(const struct plan *p, const struct program_io *io, const int *held, size_t nheld, struct cgroup_procs *cg,
	   struct timespec *start)
{
	sigset_t set;
	int sync[2];
	int joined[2] = { -1, -1 };
	pid_t init;
	int status;
	size_t i;

	ns_signal_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die_errno("sigprocmask(SIG_BLOCK)");
	if (pipe2(sync, O_CLOEXEC) < 0)
		die_errno("pipe2 (sync)");
	if (cg->nself > 0 && pipe2(joined, O_CLOEXEC) < 0)
		die_errno("pipe2 (joined)");
	init = ns_clone3(p, cg);
	if (init < 0)
		die_errno("clone3(CLONE_NEWPID|CLONE_NEWIPC%s%s%s)", p->network != PLAN_NET_HOST ? "|CLONE_NEWNET" : "",
			  cg->into_fd >= 0 ? "|CLONE_INTO_CGROUP " : "", cg->into_fd >= 0 ? cg->dirs[cg->into_index] : "");
	if (init == 0) {
		if (close(sync[1]) < 0)
			die_errno("close(sync pipe)");
		if (joined[0] >= 0 && close(joined[0]) < 0)
			die_errno("close(joined pipe)");
		ns_init(p, io, sync[0], joined[1], held, nheld, cg);
	}
	if (close(sync[0]) < 0)
		die_errno("close(sync pipe)");
	if (joined[1] >= 0 && close(joined[1]) < 0)
		die_errno("close(joined pipe)");
	ns_close_io(io);
	/* init waits on the sync pipe: it is in the cgroups before it runs anything, and every process of the jail
	 * inherits them. A failure: init is killed (it would exit on EOF of the sync pipe anyway), no `started`. */
	for (i = 0; i < cg->n; i++) {
		if (!cgroup_needs_write(cg, i))
			continue;
		if (cgroup_write(cg, i, init) < 0) {
			int saved = errno;

			(void)kill(init, SIGKILL);
			errno = saved;
			die_errno("write(%s/%s, %d)", cg->dirs[i], cg->files[i], (int)init);
		}
	}
	cgroup_close(cg);
	if (joined[0] >= 0)
		ns_await_joined(joined[0], init);
	/* The daemon's go (its start row is on disk) comes while init is still held on the sync pipe: nothing has run
	 * yet, and dying here makes init exit on EOF. As late as possible, so that its sync overlaps the setup. */
	if (p->await_go)
		fdio_await_go(p->status_fd);
	if (fdio_send_record(p->status_fd, "started %d", (int)init) < 0) {
		int saved = errno;

		/* init would exit on EOF of the sync pipe anyway; a failed kill changes nothing here. */
		(void)kill(init, SIGKILL);
		errno = saved;
		die_errno("send(status, started)");
	}
	/* The changes summary counts what changed from here on (inode ctimes come from the coarse clock). */
	if (clock_gettime(CLOCK_REALTIME_COARSE, start) < 0)
		die_errno("clock_gettime(CLOCK_REALTIME_COARSE)");
	if (write(sync[1], "g", 1) != 1)
		die_errno("write(sync pipe)");
	if (close(sync[1]) < 0)
		die_errno("close(sync pipe)");

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		pid_t r;

		if (sig < 0 && errno == EINTR)
			continue;
		if (sig < 0)
			die_errno("sigwaitinfo");
		if (sig != SIGCHLD) {
			if (kill(init, sig) < 0 && errno != ESRCH)
				die_errno("kill(init %d, %d)", (int)init, sig);
			continue;
		}
		r = waitpid(init, &status, WNOHANG);
		if (r < 0)
			die_errno("waitpid(init %d)", (int)init);
		if (r == init)
			break;
	}
	return status;
}
