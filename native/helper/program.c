/* program.c — see program.h.
 *
 * Why this is safe: the program starts in its own session with the fresh PTY as controlling terminal (TIOCSTI reaches
 * only itself), no fd but its stdio survives exec (close_range CLOEXEC, which keeps the status socket usable for an
 * exec error), the bounding set is empty and the ids are dropped before no_new_privs, and the process is never
 * dumpable while it is the user's until exec (creds_drop_final), which makes it dumpable again only for the
 * non-setuid program the user may ptrace anyway. */
#include "program.h"

#include <errno.h>
#include <linux/keyctl.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "creds.h"
#include "die.h"
#include "seccomp.h"

extern char **environ;

void program_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* glibc reserves 32 and 33 (EINVAL): nothing to reset there. */
		if (sigaction(sig, &sa, NULL) < 0 && errno != EINVAL)
			die_errno("sigaction(%d, SIG_DFL)", sig);
	}
	if (sigemptyset(&none) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		die_errno("sigprocmask(SIG_SETMASK, {})");
}

void program_install_stdio(const int src[3])
{
	int i;

	for (i = 0; i < 3; i++)
		if (src[i] < 3)
			die("internal error: stdio source fd %d < 3", src[i]);
	for (i = 0; i < 3; i++)
		if (dup2(src[i], i) < 0)
			die_errno("dup2(%d, %d)", src[i], i);
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		die_errno("close_range(3, ~0, CLOSE_RANGE_CLOEXEC)");
}

void program_exec(const struct plan *p, const struct program_io *io)
{
	int src[3];
	int null_fd = -1;
	int i, err;

	if (prctl(PR_SET_NAME, "jai-exec", 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_NAME)");
	die_set_stage("exec");
	for (i = 0; i < 3; i++) {
		src[i] = io->stdio[i];
		if (src[i] >= 0)
			continue;
		if (null_fd < 0) {
			/* fds 0–2 are occupied until the dup2 below, so this is ≥ 3 and not clobbered by it. */
			null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
			if (null_fd < 0)
				die_errno("open(/dev/null) in the jail");
		}
		src[i] = null_fd;
	}
	program_install_stdio(src);
	/* fd 2 is the program's stderr now: errors go only to the status socket. */
	die_set_stderr(false);

	creds_drop_final(p, CREDS_SANDBOX);
	/* A fresh anonymous session keyring, owned by the program's uid: never jaid's (shared by every session under
	 * systemd) nor another session's. ENOSYS: a kernel without keys has nothing to share. */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
		die_errno("keyctl(KEYCTL_JOIN_SESSION_KEYRING)");
	if (chdir(p->cwd) < 0) {
		/* Upstream §8.3: without a cwd grant (-D) the private home of strict/bare need not hold the cwd. */
		if (errno != ENOENT || p->mode == PLAN_MODE_CASUAL || p->has_cwd_grant)
			die_errno("chdir(%s)", p->cwd);
		die_notice("No \"%s\" in jail, changed to home directory", p->cwd);
		if (chdir(p->home) < 0)
			die_errno("chdir(%s)", p->home);
	}
	umask(p->umask);
	/* The filter also covers what this process still does (execvp), and nothing after it needs clone. */
	seccomp_install(p);
	/* Its own process group in init's session (init holds the PTY as controlling terminal): unlike a session leader
	 * whose parent is in another session, this group is not orphaned, so a ^Z or SIGTSTP really stops it — and init
	 * can give it the terminal back when it is continued, as upstream's PID 1 does. The terminal is taken while
	 * SIGTTOU is still blocked (inherited from init), before the signal state is reset for the program. Last before
	 * the exec: until this reset the terminal's stop signals are ignored (init set them so, ns.c), and a stop of this
	 * process before its exec would hold init too when it runs on init's memory. */
	if (setpgid(0, 0) < 0)
		die_errno("setpgid(0, 0)");
	if (io->pty_slave >= 0 && tcsetpgrp(io->pty_slave, getpid()) < 0)
		die_errno("tcsetpgrp(pty slave)");
	program_reset_signals();
	/* execvp searches the PATH of environ: the plan's. */
	environ = (char **)p->env;
	execvp(p->argv[0], (char *const *)p->argv);
	err = errno;
	if (err == ENOENT)
		die_code(DIE_NOTFOUND, "%s: %s", p->argv[0], strerror(err));
	die_code(DIE_NOEXEC, "%s: %s", p->argv[0], strerror(err));
}
