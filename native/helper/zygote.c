/* zygote.c — see zygote.h.
 *
 * Why: every session used to exec the helper, and an exec costs the kernel's new address space and glibc's start
 * (its CPU feature probe runs ~40 cpuid instructions, each a VM exit under a hypervisor): ~1.1 ms per session on the
 * benchmark machine. A fork of this small, idle process costs a fraction of that.
 *
 * Trust: only jaid holds the other end of the control socket (a socketpair made at its start). A request is the
 * packet `spawn` with the session helper's fds (SCM_RIGHTS); nothing else of it is read, so nothing the zygote does
 * depends on a client's bytes. The child is created with CLONE_PARENT, so that it is jaid's child, reaped by jaid
 * through the pidfd sent back, as an exec'd helper is; it then runs main() as a fresh helper would (its own signal
 * reset, fd checks, plan, everything). The zygote keeps no fd of a session once its reply is sent.
 *
 * Every forked helper shares the zygote's address-space layout and stack canary. jaid retires a zygote once asked
 * for 64 helpers, and when a helper it forked dies of a crash signal, so crashes cannot be used as an oracle to guess
 * them piece by piece (native/README.md, "The zygote"). */
#include "zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "die.h"
#include "fdio.h"

#define ZYGOTE_REQUEST "spawn"

static void zygote_close_fds(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (close(fds[i]) < 0)
			die_errno("close(%d) (a request's fd)", fds[i]);
}

/* `pid N` with the pidfd, or `error ERRNO`: one packet, never SIGPIPE. A failed send means jaid is gone. */
static void zygote_reply(const char *text, int pidfd)
{
	int sent = pidfd >= 0 ? fdio_send_fd(ZYGOTE_CTL_FD, text, pidfd) : fdio_send_record(ZYGOTE_CTL_FD, "%s", text);

	if (sent < 0)
		die_errno("send(reply)");
}

/* One request: returns the number of fds received into fds[], or -1 for a request to refuse (its fds closed), or
 * exits at EOF. */
static int zygote_receive(int *fds)
{
	union {
		char buf[CMSG_SPACE(ZYGOTE_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	char payload[sizeof ZYGOTE_REQUEST + 1];
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof payload };
	struct msghdr msg;
	struct cmsghdr *c;
	size_t nfds = 0;
	bool bad = false;
	ssize_t n;

	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof control.buf;
	do
		n = recvmsg(ZYGOTE_CTL_FD, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die_errno("recvmsg(control socket)");
	if (n == 0 && msg.msg_controllen == 0)
		_exit(0);
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		size_t k, count;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) {
			bad = true;
			continue;
		}
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < count; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (nfds < ZYGOTE_MAX_FDS) {
				fds[nfds++] = fd;
				continue;
			}
			/* More than one message can carry (several control messages): refused, none kept. */
			bad = true;
			if (close(fd) < 0)
				die_errno("close(%d) (a request's fd)", fd);
		}
	}
	if (bad || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0 || (size_t)n != strlen(ZYGOTE_REQUEST) ||
	    memcmp(payload, ZYGOTE_REQUEST, (size_t)n) != 0 || nfds < 4) {
		zygote_close_fds(fds, nfds);
		return -1;
	}
	return (int)nfds;
}

/* In the child: fds[i] becomes fd i, every other fd is closed (the control socket first of all). Each source is
 * first moved above the highest target, so that no dup2 replaces a source still to be used. */
static void zygote_install_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, n);
		if (fds[i] < 0)
			_exit(DIE_SETUP);
	}
	for (i = 0; i < n; i++)
		if (dup2(fds[i], i) < 0)
			_exit(DIE_SETUP);
	if (close_range((unsigned int)n, ~0U, 0) < 0)
		_exit(DIE_SETUP);
}

void zygote_serve(void)
{
	struct sigaction ignore;
	int fds[ZYGOTE_MAX_FDS];
	int keep[] = { 0, 1, 2, ZYGOTE_CTL_FD };

	die_set_stage("zygote");
	if (prctl(PR_SET_NAME, "jai-zygote", 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_NAME)");
	/* jaid's end closes when it exits, which ends the loop below; this covers a jaid that is stopped for good. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_PDEATHSIG)");
	fdio_require_seqpacket(ZYGOTE_CTL_FD);
	fdio_close_all_except(keep, sizeof keep / sizeof keep[0]);
	memset(&ignore, 0, sizeof ignore);
	ignore.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &ignore, NULL) < 0)
		die_errno("sigaction(SIGPIPE)");

	for (;;) {
		struct clone_args args;
		char text[32];
		int pidfd = -1;
		int n = zygote_receive(fds);
		pid_t child;

		if (n < 0) {
			zygote_reply("error 22", -1);
			continue;
		}
		memset(&args, 0, sizeof args);
		/* jaid's child, not ours; CLONE_PARENT takes the zygote's own exit signal (SIGCHLD). A raw clone3, as
		 * fork() without its handlers: glibc's thread block keeps the zygote's tid, harmless for a process that
		 * never starts a thread (the helper must not use pthreads). */
		args.flags = CLONE_PARENT | CLONE_PIDFD;
		args.pidfd = (unsigned long)&pidfd;
		child = (pid_t)syscall(SYS_clone3, &args, sizeof args);
		if (child == 0) {
			/* Non-dumpable is inherited already (the mm's flags); said again so that no later change to the
			 * zygote can lose it. Named at once: jaid and its tests know a session helper by its name. */
			if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NAME, "jai-helper", 0, 0, 0) < 0)
				_exit(DIE_SETUP);
			zygote_install_fds(fds, n);
			return;
		}
		if (child < 0) {
			snprintf(text, sizeof text, "error %d", errno);
			zygote_close_fds(fds, (size_t)n);
			zygote_reply(text, -1);
			continue;
		}
		zygote_close_fds(fds, (size_t)n);
		snprintf(text, sizeof text, "pid %d", (int)child);
		zygote_reply(text, pidfd);
		if (close(pidfd) < 0)
			die_errno("close(pidfd)");
	}
}
