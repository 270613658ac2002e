/* initjail.c — see initjail.h.
 *
 * Why this is safe: the child gives up everything before exec as PID 2 does (creds_drop_final: empty bounding set,
 * the user's groups, gid and uid verified irreversible, no capabilities, no_new_privs; the user's even in strict
 * mode, where PID 2 becomes the untrusted account, as upstream), so it runs
 * with no more than the user has outside any jail, which is where upstream runs it. It goes back to the host mount
 * namespace with setns before the drop (the jail's read-only view is not where upstream runs it), keeps only its
 * stdio (close_range CLOEXEC: the status socket, the pty slave, the held mount fds and the plan's fds do not cross
 * exec), and dies with the helper (PR_SET_PDEATHSIG, set after the drop, which would clear it). Nothing it does
 * can fail the session: its status only becomes a notice — except its placement in the session's cgroups (plan key
 * `cgroup`): the child closes its copies of the cgroup fds first thing (it never writes to them, and none
 * crosses exec), then blocks on a sync pipe while the helper writes its pid to each fd (a pid write: it works on
 * cgroup v1 and v2 alike, where CLONE_INTO_CGROUP is v2 only; it costs the grace period init avoids, once per new
 * jail). Only after every write succeeded does
 * the child run its setup and exec, so the user's code, and everything it forks (a daemonised process too), is
 * under the session's limits and never in jaid's own cgroup; a failed write kills the child before it does
 * anything, and the session ends (stage `initjail`). The helper keeps its fds for init (ns_run). */
#include "initjail.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "creds.h"
#include "die.h"
#include "program.h"

static _Noreturn void initjail_child(const struct plan *p, const struct program_io *io, int host_ns, int home_fd,
				     pid_t parent, struct cgroup_procs *cg, const int sync[2])
{
	char *const argv[] = { (char *)p->initjail, NULL };
	int src[3];
	int null_fd, i;
	ssize_t n;
	char go;

	/* No record from here: a failure is the initjail's exit status, reported by the helper as a notice. */
	die_set_child(INITJAIL_CANNOT_EXEC);
	die_set_stage("initjail");
	if (prctl(PR_SET_NAME, "jai-initjail", 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_NAME)");
	/* The helper places this process in the cgroups; the child never holds a cgroup fd past this point. */
	cgroup_close(cg);
	if (close(sync[1]) < 0)
		die_errno("close(sync pipe)");
	do
		n = read(sync[0], &go, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die_errno("read(sync pipe)");
	if (n != 1)
		die("not placed in the session's cgroups"); /* the helper failed the placement or died */
	if (close(sync[0]) < 0)
		die_errno("close(sync pipe)");
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

/* Writes the child's pid to each cgroup fd (cgroup.procs, or tasks on v1: the child is single-threaded) while it waits on the sync pipe; a failed write kills and reaps
 * the child (it has run nothing of its own) and ends the session. */
static void initjail_place(const struct cgroup_procs *cg, pid_t child)
{
	size_t i;

	for (i = 0; i < cg->n; i++) {
		int saved;

		if (cgroup_write(cg, i, child) == 0)
			continue;
		saved = errno;
		if (kill(child, SIGKILL) < 0)
			die_errno("kill(initjail %d, SIGKILL)", (int)child);
		while (waitpid(child, NULL, 0) < 0)
			if (errno != EINTR)
				die_errno("waitpid(initjail %d)", (int)child);
		errno = saved;
		die_errno("write(%s/%s, %d)", cg->dirs[i], cg->files[i], (int)child);
	}
}

void initjail_run(const struct plan *p, const struct program_io *io, int host_ns, int home_fd,
		  struct cgroup_procs *cg)
{
	pid_t parent = getpid();
	pid_t child;
	int sync[2];
	int status;

	if (pipe2(sync, O_CLOEXEC) < 0)
		die_errno("pipe2 (initjail sync)");
	child = fork();
	if (child < 0)
		die_errno("fork (initjail)");
	if (child == 0)
		initjail_child(p, io, host_ns, home_fd, parent, cg, sync);
	if (close(sync[0]) < 0)
		die_errno("close(initjail sync pipe)");
	initjail_place(cg, child);
	/* EPIPE: the child is gone already (killed by root); its wait status below says so. */
	if (write(sync[1], "g", 1) != 1 && errno != EPIPE)
		die_errno("write(initjail sync pipe)");
	if (close(sync[1]) < 0)
		die_errno("close(initjail sync pipe)");
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid(initjail %d)", (int)child);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		die_notice("%s: exit code %d%s", p->initjail, WEXITSTATUS(status),
			   WEXITSTATUS(status) == INITJAIL_CANNOT_EXEC ? " (probably couldn't execute)" : "");
	else if (WIFSIGNALED(status))
		die_notice("%s: killed by signal %d", p->initjail, WTERMSIG(status));
}
