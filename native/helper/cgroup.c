/* cgroup.c — see cgroup.h.
 *
 * Why this is safe: the plan's paths are canonical and below /sys/fs/cgroup/ (plan.c), every component is resolved
 * with symlinks refused (path_open_dir), `cgroup.procs` is opened in that directory's own mount (RESOLVE_NO_XDEV: no
 * bind mount over it) and its filesystem must be cgroup v1 or v2, so a write can only move init into a cgroup; the
 * fds are O_CLOEXEC, closed by the initjail child and by init first thing and by the outer helper once init is
 * placed, so neither the initjail, init's children nor the program ever hold one (a cgroup.procs fd would let them
 * move any process they can see). */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "die.h"
#include "path.h"

void cgroup_open(const struct plan *p, struct cgroup_procs *cg)
{
	size_t i;

	cg->n = 0;
	cg->into_fd = -1;
	cg->into_index = 0;
	for (i = 0; i < p->ncgroups; i++) {
		struct open_how how = {
			.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
			.mode = 0,
			.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV | RESOLVE_BENEATH,
		};
		const char *dir = p->cgroups[i];
		struct statfs sfs;
		int dirfd, fd;

		/* The directory, one component at a time, never through a symlink (the mounts of /sys, /sys/fs/cgroup
		 * and a v1 hierarchy are crossed: RESOLVE_NO_XDEV applies to the last step only). */
		dirfd = path_open_dir(dir, O_PATH, 0);
		if (dirfd < 0)
			die_errno("open(%s)", dir);
		fd = (int)syscall(SYS_openat2, dirfd, "cgroup.procs", &how, sizeof how);
		if (fd < 0)
			die_errno("open(%s/cgroup.procs)", dir);
		if (fstatfs(fd, &sfs) < 0)
			die_errno("fstatfs(%s/cgroup.procs)", dir);
		if (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)
			die("%s/cgroup.procs: not on a cgroup filesystem (f_type 0x%lx)", dir, (unsigned long)sfs.f_type);
		/* cgroup v2: init is cloned into the directory (CLONE_INTO_CGROUP), which takes no write lock of the
		 * kernel's global cgroup_threadgroup_rwsem; a pid write there costs an RCU grace period (5–25 ms) when the
		 * lock was idle. cgroup.procs is in the directory's own mount (RESOLVE_NO_XDEV), so the directory is the
		 * cgroup checked above. The initjail child is still placed by a write (rare: a new jail only). */
		if (sfs.f_type == CGROUP2_SUPER_MAGIC && cg->into_fd < 0) {
			cg->into_fd = dirfd;
			cg->into_index = cg->n;
		} else if (close(dirfd) < 0) {
			die_errno("close(%s)", dir);
		}
		cg->fds[cg->n] = fd;
		cg->dirs[cg->n] = dir;
		cg->n++;
	}
}

int cgroup_write(const struct cgroup_procs *cg, size_t i, pid_t pid)
{
	char buf[24];
	int len = snprintf(buf, sizeof buf, "%d", (int)pid);
	ssize_t n;

	do
		n = write(cg->fds[i], buf, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int cgroup_needs_write(const struct cgroup_procs *cg, size_t i)
{
	return cg->into_fd < 0 || i != cg->into_index;
}

void cgroup_close(struct cgroup_procs *cg)
{
	size_t i;

	for (i = 0; i < cg->n; i++)
		if (close(cg->fds[i]) < 0)
			die_errno("close(%s/cgroup.procs)", cg->dirs[i]);
	if (cg->into_fd >= 0 && close(cg->into_fd) < 0)
		die_errno("close(%s)", cg->dirs[cg->into_index]);
	cg->into_fd = -1;
	cg->n = 0;
}
