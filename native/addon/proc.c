/* proc.c — close(2) for fds Node does not own, and reading the umask. */
#include "proc.h"

#include <errno.h>
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
