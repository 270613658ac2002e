/* proc.c — close(2) for fds Node does not own, pipe(2), and reading the umask. */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

napi_value proc_close_fd(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int fd;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd))
		return NULL;
	/* On Linux the fd is released even when close reports EINTR: retrying
	 * could close an fd another thread just got. */
	if (close(fd) < 0 && errno != EINTR)
		return err_errno(env, "close", errno, NULL);
	napi_value undefined;
	NAPI_TRY(env, napi_get_undefined(env, &undefined));
	return undefined;
}

napi_value proc_pipe(napi_env env, napi_callback_info info)
{
	/* Both ends blocking: the one handed to a jailed program is its stdio as
	 * any shell would give it; Node's net.Socket sets O_NONBLOCK on the one it
	 * wraps (a pipe's two ends are separate open file descriptions). */
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_errno(env, "pipe2", errno, NULL);
	napi_value arr, r, w;
	if (napi_create_array_with_length(env, 2, &arr) != napi_ok || napi_create_int32(env, fds[0], &r) != napi_ok ||
	    napi_create_int32(env, fds[1], &w) != napi_ok || napi_set_element(env, arr, 0, r) != napi_ok ||
	    napi_set_element(env, arr, 1, w) != napi_ok) {
		close(fds[0]);
		close(fds[1]);
		return err_napi(env, "building the pipe result");
	}
	return arr;
}

/* The "Umask:" line of /proc/self/status (Linux 4.7+), or -1. */
static int umask_from_proc(void)
{
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *line = strstr(buf, "\nUmask:");
	if (line == NULL)
		return -1;
	char *end;
	long mask = strtol(line + strlen("\nUmask:"), &end, 8);
	if (end == line + strlen("\nUmask:") || mask < 0 || mask > 0777)
		return -1;
	return (int)mask;
}

napi_value proc_umask(napi_env env, napi_callback_info info)
{
	int mask = umask_from_proc();
	if (mask < 0) {
		/* No /proc: set and restore. The transient value is the strict
		 * one, so a file created meanwhile by another thread errs on the
		 * side of being private. */
		mode_t old = umask(077);
		umask(old);
		mask = (int)old;
	}
	napi_value v;
	NAPI_TRY(env, napi_create_uint32(env, (uint32_t)mask, &v));
	return v;
}

/* Reads "pid (comm) state ppid pgrp session" of /proc/<pid>/stat; comm may hold spaces and parentheses, so the
 * fields are taken after the last ')'. Returns 0, or -1 when the process is gone or the line is odd. */
static int stat_ids(pid_t pid, pid_t *ppid, pid_t *pgrp, pid_t *sid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *close_paren = strrchr(buf, ')');
	int p, g, s;
	if (close_paren == NULL || sscanf(close_paren + 1, " %*c %d %d %d", &p, &g, &s) != 3)
		return -1;
	*ppid = p;
	*pgrp = g;
	*sid = s;
	return 0;
}

/* POSIX: a process group is orphaned when no member has a parent in another group of the same session. The kernel
 * discards SIGTSTP/SIGTTIN/SIGTTOU sent to such a group, so a stop must use SIGSTOP there. */
static bool pgrp_is_orphaned(void)
{
	pid_t group = getpgrp(), session = getsid(0);
	DIR *dir = opendir("/proc");
	if (dir == NULL)
		return false; /* cannot tell: the signal as asked */
	bool orphaned = true;
	struct dirent *entry;
	while (orphaned && (entry = readdir(dir)) != NULL) {
		char *end;
		long pid = strtol(entry->d_name, &end, 10);
		pid_t ppid, pgrp, sid, parent_pgrp, parent_sid, grandparent;
		if (*end != '\0' || pid <= 0 || stat_ids((pid_t)pid, &ppid, &pgrp, &sid) < 0 || pgrp != group)
			continue;
		if (stat_ids(ppid, &grandparent, &parent_pgrp, &parent_sid) == 0 && parent_pgrp != group &&
		    parent_sid == session)
			orphaned = false;
	}
	closedir(dir);
	return orphaned;
}

napi_value proc_exit_now(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int64_t status;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_int(env, argv[0], "status", 0, 255, &status))
		return NULL;
	_exit((int)status);
}

napi_value proc_stop_self(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int64_t sig;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_int(env, argv[0], "signo", SIGSTOP, SIGTTOU, &sig))
		return NULL;
	int used = (int)sig;
	if (used != SIGSTOP && pgrp_is_orphaned())
		used = SIGSTOP;
	/* Delivered before kill returns: the whole process stops here and resumes on SIGCONT. */
	if (kill(getpid(), used) < 0)
		return err_errno(env, "kill", errno, NULL);
	napi_value result;
	NAPI_TRY(env, napi_create_int32(env, used, &result));
	return result;
}
