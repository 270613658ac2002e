/* initjail.c — see initjail.h.
 *
 * Why this is safe: the child gives up everything before exec as PID 2 does (creds_drop_final: empty bounding set,
 * the user's groups, gid and uid verified irreversible, no capabilities, no_new_privs; the user's even in strict
 * mode, where PID 2 becomes the untrusted account, as upstream), so it runs
 * with no more than the user has outside any jail, which is where upstream runs it. It goes back to the host mount
 * namespace with setns before the drop (the jail's read-only view is not where upstream runs it), keeps only its
 * stdio (close_range CLOEXEC: the status socket, the pty slave, the held mount fds and the plan's fds do not cross
 * exec), and dies with the helper (PR_SET_PDEATHSIG, set after the drop, which would clear it). Nothing it does
 * can fail the session: its status only becomes a notice. */
#include "initjail.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "creds.h"
#include "die.h"
#include "program.h"

static _Noreturn void initjail_child(const struct plan *p, const struct program_io *io, int host_ns, int home_fd,
				     pid_t parent)
{
	char *const argv[] = { (char *)p->initjail, NULL };
	int src[3];
	int null_fd, i;

	/* No record from here: a failure is the initjail's exit status, reported by the helper as a notice. */
	die_set_child(INITJAIL_CANNOT_EXEC);
	die_set_stage("initjail");
	if (prctl(PR_SET_NAME, "jai-initjail", 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_NAME)");
	program_reset_signals();
	if (setsid() < 0)
		die_errno("setsid");
	if (setns(host_ns, CLONE_NEWNS) < 0)
		die_errno("setns(host mount namespace)");
	if (close(host_ns) < 0)
		die_errno("close(host mount namespace)");
	/* fds 0–2 are occupied until the dup2 below, so this is ≥ 3 and not clobbered by it. */
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (null_fd < 0)
		die_errno("open(/dev/null)");
	src[0] = null_fd;
	for (i = 1; i < 3; i++)
		src[i] = io->stdio[i] >= 0 ? io->stdio[i] : null_fd;
	program_install_stdio(src);

	creds_drop_final(p, CREDS_USER);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		die("the helper exited before the initjail started");
	/* As the user by now: the overlay root is the user's changes dir; strict/bare's home is the user's dir. */
	if (fchdir(home_fd) < 0) {
		if (p->mode == PLAN_MODE_CASUAL)
			die_errno("fchdir(/run/jai/%s/%s.home)", p->user, p->jail);
		die_errno("fchdir(%s/%s.home)", p->storage, p->jail);
	}
	umask(p->umask);
	execve(p->initjail, argv, (char *const *)p->env);
	die_errno("execve(%s)", p->initjail);
}

void initjail_run(const struct plan *p, const struct program_io *io, int host_ns, int home_fd)
{
	pid_t parent = getpid();
	pid_t child;
	int status;

	child = fork();
	if (child < 0)
		die_errno("fork (initjail)");
	if (child == 0)
		initjail_child(p, io, host_ns, home_fd, parent);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid(initjail %d)", (int)child);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		die_notice("%s: exit code %d%s", p->initjail, WEXITSTATUS(status),
			   WEXITSTATUS(status) == INITJAIL_CANNOT_EXEC ? " (probably couldn't execute)" : "");
	else if (WIFSIGNALED(status))
		die_notice("%s: killed by signal %d", p->initjail, WTERMSIG(status));
}
