/* spawn.c — starting a child without copying this process, and reaping it through a pidfd.
 *
 * jaid is a ~80 MiB process: fork() (what libuv's uv_spawn does) copies its page tables, ~2 ms per child and
 * growing with its heap, during which the event loop stands still. Here the child is a clone(CLONE_VM|CLONE_VFORK):
 * it runs on our memory, on a stack of our own frame, while this thread waits in clone() until it has exec'd (or
 * failed), as glibc's posix_spawn does. Unlike posix_spawn it execs an fd (execveat AT_EMPTY_PATH: the binary jaid
 * opened and checked once at start) and gets a pidfd from the kernel (CLONE_PIDFD), with no pid-reuse window.
 *
 * The child is not a libuv process handle: libuv reaps only the pids of its own uv_spawn handles
 * (uv__wait_children: waitpid(process->pid, …) for each), so nothing but pidfdWait reaps it. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

#define SPAWN_MAX_ARGS 16
#define SPAWN_MAX_ARG_BYTES 1024
/* The child's whole stack, in the caller's frame: it only makes syscalls. */
#define SPAWN_STACK_BYTES (32 * 1024)

/* Shared with the child (same memory until it execs); it writes err and failed only when it fails. */
struct spawn_child {
	int exec_fd;
	char *const *argv;
	const int *fds;
	int nfds;
	int err;
	const char *failed;
};

static char *const spawn_empty_env[] = { NULL };

static int spawn_child_fail(struct spawn_child *c, const char *what)
{
	c->err = errno;
	c->failed = what;
	_exit(127);
}

/* The child, on our memory: only syscalls, no allocation, no locks. Everything is reset that would survive exec:
 * ignored signals and the signal mask (Node ignores SIGPIPE; signals are blocked here since before clone), and every
 * fd but the list (close_range marks them close-on-exec). */
static int spawn_child_main(void *arg)
{
	struct spawn_child *c = arg;
	int moved[SPAWN_MAX_FDS];
	int exec_fd = c->exec_fd;
	struct sigaction dfl;
	sigset_t none;
	int sig, i;

	/* Also each handler: one must not run here, on jaid's memory, once the mask is cleared. */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* EINVAL: glibc's internal signals (32, 33), which no program can set to SIG_IGN. */
		if (sigaction(sig, &dfl, NULL) < 0 && errno != EINVAL)
			return spawn_child_fail(c, "sigaction");
	}
	/* Every source above the highest target first, so that no dup2 below replaces a source still to be used
	 * (e.g. [4, 3] → 0, 1 with 3 → 1 … or a source that is itself a lower target). */
	for (i = 0; i < c->nfds; i++) {
		moved[i] = fcntl(c->fds[i], F_DUPFD_CLOEXEC, c->nfds);
		if (moved[i] < 0)
			return spawn_child_fail(c, "fcntl(F_DUPFD_CLOEXEC)");
	}
	if (exec_fd < c->nfds) {
		exec_fd = fcntl(exec_fd, F_DUPFD_CLOEXEC, c->nfds);
		if (exec_fd < 0)
			return spawn_child_fail(c, "fcntl(F_DUPFD_CLOEXEC)");
	}
	/* dup2 clears FD_CLOEXEC on the target; a source is never its own target (it is ≥ nfds). */
	for (i = 0; i < c->nfds; i++)
		if (dup2(moved[i], i) < 0)
			return spawn_child_fail(c, "dup2");
	if (close_range((unsigned int)c->nfds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return spawn_child_fail(c, "close_range");
	if (sigemptyset(&none) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return spawn_child_fail(c, "sigprocmask");
	execveat(exec_fd, "", c->argv, spawn_empty_env, AT_EMPTY_PATH);
	return spawn_child_fail(c, "execveat");
}

/* Waits for a child known to have exited (or to be exiting), so that it leaves no zombie. */
static void spawn_reap(int pidfd)
{
	siginfo_t si;
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
}

/* argv: an array of 1..SPAWN_MAX_ARGS strings, copied into strings[] and pointed to from ptrs[] (NULL-ended). */
static bool spawn_arg_argv(napi_env env, napi_value v, char (*strings)[SPAWN_MAX_ARG_BYTES], char **ptrs)
{
	bool is_array = false;
	uint32_t n = 0;
	if (napi_is_array(env, v, &is_array) != napi_ok || !is_array) {
		err_type(env, "ERR_INVALID_ARG_TYPE", "The \"argv\" argument must be an array of strings");
		return false;
	}
	if (napi_get_array_length(env, v, &n) != napi_ok) {
		err_napi(env, "napi_get_array_length");
		return false;
	}
	if (n < 1 || n > SPAWN_MAX_ARGS) {
		err_range(env, "The \"argv\" argument must hold 1 to %d strings. Received %u", SPAWN_MAX_ARGS, n);
		return false;
	}
	for (uint32_t i = 0; i < n; i++) {
		napi_value element;
		if (napi_get_element(env, v, i, &element) != napi_ok) {
			err_napi(env, "napi_get_element");
			return false;
		}
		if (!arg_string(env, element, "argv", strings[i], SPAWN_MAX_ARG_BYTES))
			return false;
		ptrs[i] = strings[i];
	}
	ptrs[n] = NULL;
	return true;
}

napi_value spawn_spawn(napi_env env, napi_callback_info info)
{
	napi_value argv[3], result, pid_v, pidfd_v;
	char strings[SPAWN_MAX_ARGS][SPAWN_MAX_ARG_BYTES];
	char *ptrs[SPAWN_MAX_ARGS + 1];
	int fds[SPAWN_MAX_FDS];
	size_t nfds;
	/* The child's stack: this thread waits in clone() while the child uses it. */
	_Alignas(16) char stack[SPAWN_STACK_BYTES];
	struct spawn_child child = { 0 };
	sigset_t all, old;
	int pidfd = -1, rc, clone_err;
	pid_t pid;

	if (!arg_get(env, info, 3, argv, NULL) || !arg_fd(env, argv[0], "execFd", &child.exec_fd) ||
	    !spawn_arg_argv(env, argv[1], strings, ptrs) ||
	    !arg_fd_list(env, argv[2], "fds", fds, SPAWN_MAX_FDS, &nfds))
		return NULL;
	child.argv = ptrs;
	child.fds = fds;
	child.nfds = (int)nfds;

	/* The child starts with every signal blocked: no handler of ours may run on its stack before it has reset
	 * them (glibc keeps its own two signals unblockable; nothing sends them to a new child). */
	if (sigfillset(&all) < 0)
		return err_errno(env, "sigfillset", errno, NULL);
	rc = pthread_sigmask(SIG_BLOCK, &all, &old);
	if (rc != 0)
		return err_errno(env, "pthread_sigmask", rc, NULL);
	pid = clone(spawn_child_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &child,
		    &pidfd);
	/* errno is shared with the child (same thread pointer): meaningful only when clone itself failed. */
	clone_err = errno;
	rc = pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return err_errno(env, "clone", clone_err, NULL);
	if (child.failed != NULL) {
		/* The child has _exit'ed (CLONE_VFORK resumed us): reap it, report what failed. */
		spawn_reap(pidfd);
		close(pidfd);
		return err_errno(env, child.failed, child.err, NULL);
	}
	if (rc != 0 || napi_create_object(env, &result) != napi_ok || napi_create_int32(env, pid, &pid_v) != napi_ok ||
	    napi_create_int32(env, pidfd, &pidfd_v) != napi_ok ||
	    napi_set_named_property(env, result, "pid", pid_v) != napi_ok ||
	    napi_set_named_property(env, result, "pidfd", pidfd_v) != napi_ok) {
		/* The caller cannot get the child: do not leave it running. */
		pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		spawn_reap(pidfd);
		close(pidfd);
		if (rc != 0)
			return err_errno(env, "pthread_sigmask", rc, NULL);
		return err_napi(env, "building the spawn result");
	}
	return result;
}

napi_value spawn_open_executable(napi_env env, napi_callback_info info)
{
	napi_value argv[1], fd_v;
	char path[SPAWN_MAX_PATH_BYTES];
	if (!arg_get(env, info, 1, argv, NULL) || !arg_string(env, argv[0], "path", path, sizeof path))
		return NULL;
	/* The inode opened here is the one every spawn runs, whatever later becomes of the path. Readable (not O_PATH)
	 * so that the caller can check what it is. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_errno(env, "open", errno, path);
	if (napi_create_int32(env, fd, &fd_v) != napi_ok) {
		close(fd);
		return err_napi(env, "napi_create_int32");
	}
	return fd_v;
}

napi_value spawn_pidfd_wait(napi_env env, napi_callback_info info)
{
	napi_value argv[1], result, code_v, signal_v;
	siginfo_t si;
	int pidfd;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "pidfd", &pidfd))
		return NULL;
	memset(&si, 0, sizeof si);
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) < 0)
		if (errno != EINTR)
			return err_errno(env, "waitid", errno, NULL);
	/* WNOHANG and nothing yet: si_pid stays 0. */
	if (si.si_pid == 0) {
		NAPI_TRY(env, napi_get_null(env, &result));
		return result;
	}
	bool exited = si.si_code == CLD_EXITED;
	NAPI_TRY(env, napi_create_object(env, &result));
	if (exited)
		NAPI_TRY(env, napi_create_int32(env, si.si_status, &code_v));
	else
		NAPI_TRY(env, napi_get_null(env, &code_v));
	if (!exited)
		NAPI_TRY(env, napi_create_int32(env, si.si_status, &signal_v));
	else
		NAPI_TRY(env, napi_get_null(env, &signal_v));
	NAPI_TRY(env, napi_set_named_property(env, result, "code", code_v));
	NAPI_TRY(env, napi_set_named_property(env, result, "signal", signal_v));
	return result;
}

napi_value spawn_pidfd_signal(napi_env env, napi_callback_info info)
{
	napi_value argv[2], result;
	int pidfd;
	int64_t signo;
	if (!arg_get(env, info, 2, argv, NULL) || !arg_fd(env, argv[0], "pidfd", &pidfd) ||
	    !arg_int(env, argv[1], "signo", 1, NSIG - 1, &signo))
		return NULL;
	bool sent = true;
	if (pidfd_send_signal(pidfd, (int)signo, NULL, 0) < 0) {
		/* ESRCH: it has exited (a zombie or reaped); never another process that got its pid. */
		if (errno != ESRCH)
			return err_errno(env, "pidfd_send_signal", errno, NULL);
		sent = false;
	}
	NAPI_TRY(env, napi_get_boolean(env, sent, &result));
	return result;
}

napi_value spawn_sealed_memfd(napi_env env, napi_callback_info info)
{
	napi_value argv[1], fd_v;
	const uint8_t *data;
	size_t len, done = 0;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_bytes(env, argv[0], "data", SPAWN_MAX_MEMFD_BYTES, &data, &len))
		return NULL;
	int fd = memfd_create("jai-plan", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return err_errno(env, "memfd_create", errno, NULL);
	/* pwrite: the offset the reader starts from stays 0. */
	while (done < len) {
		ssize_t n = pwrite(fd, data + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			close(fd);
			return err_errno(env, "pwrite", err, NULL);
		}
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		int err = errno;
		close(fd);
		return err_errno(env, "fcntl(F_ADD_SEALS)", err, NULL);
	}
	if (napi_create_int32(env, fd, &fd_v) != napi_ok) {
		close(fd);
		return err_napi(env, "napi_create_int32");
	}
	return fd_v;
}
