/* cgroup.c — see cgroup.h.
 *
 * Why this is safe: the plan's paths are canonical and below /sys/fs/cgroup/ (plan.c), every component is resolved
 * with symlinks refused (path_open_dir), the file (`cgroup.procs` on v2, `tasks` on v1) is opened in that
 * directory's own mount (RESOLVE_NO_XDEV: no bind mount over it) and its filesystem must be the cgroup v1 or v2 one
 * the directory is on, so a write can only move a process into that cgroup; the fds are O_CLOEXEC, closed by the
 * initjail child first thing, by init as soon as it has joined (before it runs anything else), and by the outer
 * helper once init is placed, so neither the initjail, init's children nor the program ever hold one (such an fd
 * would let them move any process they can see).
 *
 * Why init joins a v1 cgroup itself: a pid written to `cgroup.procs` (or another task's to `tasks`) takes the
 * kernel's global cgroup_threadgroup_rwsem for writing, which costs an RCU grace period when the lock was idle:
 * 5–25 ms, on every interactive `jai CMD`. A single thread moving itself (`0` written to `tasks`) skips that lock
 * (Linux 5.5+, "cgroup: Optimize single thread migration"; older kernels take it and are merely as slow as before):
 * ~0.02 ms. Only the literal "0" does: init's own pid written there takes the lock again. init is single-threaded,
 * so the thread is the process. */
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
	cg->nself = 0;
	cg->into_fd = -1;
	cg->into_index = 0;
	for (i = 0; i < p->ncgroups; i++) {
		struct open_how how = {
			.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
			.mode = 0,
			.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV | RESOLVE_BENEATH,
		};
		const char *dir = p->cgroups[i];
		const char *file;
		struct statfs dsfs, sfs;
		int dirfd, fd;

		/* The directory, one component at a time, never through a symlink (the mounts of /sys, /sys/fs/cgroup
		 * and a v1 hierarchy are crossed: RESOLVE_NO_XDEV applies to the last step only). */
		dirfd = path_open_dir(dir, O_PATH, 0);
		if (dirfd < 0)
			die_errno("open(%s)", dir);
		if (fstatfs(dirfd, &dsfs) < 0)
			die_errno("fstatfs(%s)", dir);
		file = dsfs.f_type == CGROUP_SUPER_MAGIC ? "tasks" : "cgroup.procs";
		fd = (int)syscall(SYS_openat2, dirfd, file, &how, sizeof how);
		if (fd < 0)
			die_errno("open(%s/%s)", dir, file);
		if (fstatfs(fd, &sfs) < 0)
			die_errno("fstatfs(%s/%s)", dir, file);
		if ((sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC) || sfs.f_type != dsfs.f_type)
			die("%s/%s: not on a cgroup filesystem (f_type 0x%lx)", dir, file, (unsigned long)sfs.f_type);
		cg->self[cg->n] = sfs.f_type == CGROUP_SUPER_MAGIC;
		if (cg->self[cg->n])
			cg->nself++;
		/* cgroup v2: init is cloned into the directory (CLONE_INTO_CGROUP), which takes no write lock of the
		 * kernel's global cgroup_threadgroup_rwsem either. cgroup.procs is in the directory's own mount
		 * (RESOLVE_NO_XDEV), so the directory is the cgroup checked above. The initjail child is placed by a
		 * write (rare: a new jail only). */
		if (sfs.f_type == CGROUP2_SUPER_MAGIC && cg->into_fd < 0) {
			cg->into_fd = dirfd;
			cg->into_index = cg->n;
		} else if (close(dirfd) < 0) {
			die_errno("close(%s)", dir);
		}
		cg->fds[cg->n] = fd;
		cg->files[cg->n] = file;
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
	return !cg->self[i] && (cg->into_fd < 0 || i != cg->into_index);
}

int cgroup_join_self(const struct cgroup_procs *cg, size_t *failed)
{
	size_t i;

	for (i = 0; i < cg->n; i++) {
		if (!cg->self[i])
			continue;
		if (cgroup_write(cg, i, 0) < 0) {
			*failed = i;
			return -1;
		}
	}
	return 0;
}

void cgroup_close(struct cgroup_procs *cg)
{
	size_t i;

	for (i = 0; i < cg->n; i++)
		if (close(cg->fds[i]) < 0)
			die_errno("close(%s/%s)", cg->dirs[i], cg->files[i]);
	if (cg->into_fd >= 0 && close(cg->into_fd) < 0)
		die_errno("close(%s)", cg->dirs[cg->into_index]);
	cg->into_fd = -1;
	cg->n = 0;
	cg->nself = 0;
}
