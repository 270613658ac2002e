/* main.c — jai-helper: the per-session, root-until-exec mechanism exec'd by jaid (op run), and the teardown of a
 * user's /run/jai state (op teardown). The contract (fds, plan, status records, steps) is native/README.md; this file
 * is the straight-line sequence of its stages. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "changes.h"
#include "die.h"
#include "fdio.h"
#include "host.h"
#include "idmap.h"
#include "initjail.h"
#include "jail.h"
#include "ns.h"
#include "passwd.h"
#include "plan.h"
#include "program.h"
#include "pty.h"
#include "teardown.h"
#include "zygote.h"

static char main_plan_buf[PLAN_MAX_BYTES + 1];
static struct plan main_plan;
static struct host_state main_host;
static struct jail_clones main_clones;
static struct cgroup_procs main_cgroups;

/* Default dispositions (the daemon's ignored signals would survive exec), except SIGPIPE, which the helper ignores
 * for its writes to the diagnostics pipe (status sends use MSG_NOSIGNAL); the program gets it back to default. */
static void main_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof sa);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa.sa_handler = sig == SIGPIPE ? SIG_IGN : SIG_DFL;
		if (sigaction(sig, &sa, NULL) < 0 && errno != EINVAL)
			die_errno("sigaction(%d)", sig);
	}
	if (sigemptyset(&none) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		die_errno("sigprocmask(SIG_SETMASK, {})");
}

/* fds 0–3 must be open before anything is opened, or a new fd would take the place of one of them. */
static void main_require_std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (fd != 2 && fcntl(2, F_GETFD) >= 0)
			die("fd %d is not open (expected: 0 plan, 1 /dev/null, 2 diagnostics, 3 status socket)", fd);
		_exit(DIE_SETUP);
	}
}

/* Reads and validates the whole plan; fd 0 becomes /dev/null so that fds 0–2 stay occupied until the program's
 * stdio replaces them. */
static void main_read_plan(void)
{
	char err[PLAN_ERR_MAX];
	size_t len = fdio_read_all(0, main_plan_buf, PLAN_MAX_BYTES);
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (null_fd < 0)
		die_errno("open(/dev/null)");
	if (dup2(null_fd, 0) < 0)
		die_errno("dup2(/dev/null, 0)");
	if (close(null_fd) < 0)
		die_errno("close(/dev/null)");
	if (plan_parse(main_plan_buf, len, &main_plan, err, sizeof err) < 0)
		die("%s", err);
}

/* Every fd but 0–2 and those the plan names is closed; those must be open. */
static void main_close_fds(void)
{
	int keep[PLAN_MAX_GRANTS + 8];
	size_t n = plan_fds(&main_plan, keep + 3, sizeof keep / sizeof keep[0] - 3);
	size_t i;

	keep[0] = 0;
	keep[1] = 1;
	keep[2] = 2;
	for (i = 3; i < n + 3; i++)
		fdio_require_open(keep[i], "named by the plan");
	fdio_close_all_except(keep, n + 3);
}

static void main_require_root(void)
{
	if (getuid() != 0 || geteuid() != 0)
		die("must be run as root (uid %u, euid %u)", (unsigned)getuid(), (unsigned)geteuid());
}

int main(int argc, char **argv)
{
	struct program_io io;
	struct timespec start;
	int held[HOST_HELD_MAX];
	size_t nheld;
	gid_t tty_gid;
	int host_ns, status, i;
	int idmap_fd = -1;

	/* Non-dumpable from the first instruction: the user cannot ptrace or read /proc/<pid>/mem of a root process
	 * that holds their namespace, mount and pty fds. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_DUMPABLE, 0)");
	main_require_std_fds();
	/* jai-helper --zygote: jaid's fork server (zygote.c); it returns only in a forked helper, whose fds 0–3 are
	 * then its own. From here on that helper is no different from an exec'd one. */
	if (argc == 2 && strcmp(argv[1], "--zygote") == 0) {
		main_require_root();
		zygote_serve();
		main_require_std_fds();
	}
	die_set_stage("start");
	if (prctl(PR_SET_NAME, "jai-helper", 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_NAME)");
	fdio_require_seqpacket(PLAN_STATUS_FD);
	die_set_status_fd(PLAN_STATUS_FD);
	main_require_root();
	umask(0);
	if (chdir("/") < 0)
		die_errno("chdir(/)");
	main_reset_signals();

	die_set_stage("plan");
	main_read_plan();
	die_set_stage("fds");
	main_close_fds();

	if (main_plan.op == PLAN_OP_TEARDOWN) {
		die_set_stage("teardown");
		teardown_run(&main_plan);
	}

	/* Host mount namespace. */
	die_set_stage("host");
	host_prepare_run(&main_plan, &main_host);
	tty_gid = pty_tty_gid();
	die_set_stage("storage");
	host_prepare_storage(&main_plan, &main_host);
	if (main_plan.mode == PLAN_MODE_CASUAL) {
		die_set_stage("overlay");
		host_mount_overlay(&main_plan, &main_host);
	}
	if (main_plan.mode == PLAN_MODE_STRICT) {
		die_set_stage("passwd");
		passwd_prepare(&main_plan, &main_host);
		die_set_stage("idmap");
		idmap_fd = idmap_userns(&main_plan);
	}
	die_set_stage("grant");
	jail_check_grants(&main_plan, &main_host);
	jail_take_clones(&main_plan, &main_host, idmap_fd, &main_clones);
	/* The clones hold the namespace from now on; no fd of it may reach init or the program. */
	if (idmap_fd >= 0 && close(idmap_fd) < 0)
		die_errno("close(id-map user namespace)");
	if (main_plan.script != NULL) {
		die_set_stage("script");
		host_write_script(&main_plan, &main_host);
	}
	/* The lock goes; the tmp and overlay mounts stay pinned by the held fds until this process exits. */
	host_release(&main_host);
	nheld = host_held_fds(&main_host, held, HOST_HELD_MAX);
	/* The cgroup fds (O_CLOEXEC): the initjail child and init are placed with them before either runs anything;
	 * both close their copies first thing (init once it has joined the v1 cgroups itself). */
	die_set_stage("cgroup");
	cgroup_open(&main_plan, &main_cgroups);

	/* The jail's mount namespace. */
	die_set_stage("jail");
	host_ns = jail_enter();
	jail_mount(&main_plan, &main_clones, tty_gid);
	jail_hide(&main_plan, &main_host);

	die_set_stage("pty");
	io.pty_slave = main_plan.uses_pty ? pty_open(&main_plan, tty_gid) : -1;
	for (i = 0; i < 3; i++) {
		const struct plan_stdio *s = &main_plan.stdio[i];

		io.stdio[i] = s->kind == PLAN_STDIO_PTY ? io.pty_slave : s->kind == PLAN_STDIO_FD ? s->fd : -1;
	}

	/* The jail's home is new: the initjail program, outside the jail, before the jailed program. */
	if (main_plan.initjail != NULL && main_host.home_created) {
		die_set_stage("initjail");
		/* The initjail is the user's too: it waits for the daemon's go as init's program does (once). */
		if (main_plan.await_go)
			fdio_await_go(PLAN_STATUS_FD);
		main_plan.await_go = false;
		initjail_run(&main_plan, &io, host_ns, main_host.jail_home_fd, &main_cgroups);
	}
	if (close(host_ns) < 0)
		die_errno("close(host mount namespace)");
	if (main_host.has_script && plan_append_env(&main_plan, main_host.script_env) < 0)
		die("internal error: no room for %s in the environment", PLAN_SCRIPT_ENV);

	die_set_stage("init");
	status = ns_run(&main_plan, &io, held, nheld, &main_cgroups, &start);

	/* The session's end was reported by init (`exit`/`signal`): no `error` record from here on; only casual mode's
	 * changes summary follows on the status socket (sent by changes_report itself, never fatal). */
	die_set_stage("end");
	die_set_status_fd(-1);
	host_remove_script(&main_plan, &main_host);
	if (WIFEXITED(status)) {
		if (main_plan.mode == PLAN_MODE_CASUAL) {
			die_set_stage("changes");
			changes_report(&main_plan, main_host.changes_fd, &start);
		}
		_exit(WEXITSTATUS(status));
	}
	die_set_stage("init");
	die_set_status_fd(PLAN_STATUS_FD);
	die("jai-init was killed by signal %d", WTERMSIG(status));
}
