/* cgroup.h — placing the session in the cgroups the daemon prepared (plan key `cgroup`): init is cloned into a
 * cgroup v2 directory and joins a v1 one itself; the initjail child's pid (and init's, for a second v2 directory) is
 * written by the helper. The daemon creates the directories and sets their limits. */
#ifndef JAI_CGROUP_H
#define JAI_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "plan.h"

struct cgroup_procs {
	size_t n;
	/* `<dir>/cgroup.procs` (v2) or `<dir>/tasks` (v1), O_WRONLY|O_CLOEXEC; files[i] names which, for messages. */
	int fds[PLAN_MAX_CGROUPS];
	const char *files[PLAN_MAX_CGROUPS];
	const char *dirs[PLAN_MAX_CGROUPS];   /* the plan's paths, for messages */
	/* v1 directories: init writes "0" to their `tasks` itself (see cgroup.c); nself counts them. */
	int self[PLAN_MAX_CGROUPS];
	size_t nself;
	/* The first cgroup v2 directory (O_PATH|O_CLOEXEC), or -1: init is cloned straight into it
	 * (CLONE_INTO_CGROUP), so its pid is not written there; into_index is its index in fds/dirs. */
	int into_fd;
	size_t into_index;
};

/* Host stage (stage `cgroup`), as root: opens each plan cgroup's cgroup.procs (v2) or tasks (v1) for writing without
 * following a symlink in any component and checks that it is on a cgroup or cgroup2 filesystem. Sets cg->n to 0
 * first. */
void cgroup_open(const struct plan *plan, struct cgroup_procs *cg);
/* Writes pid (decimal) to cg's fd i. Returns 0, or -1 with errno (a short write is EIO). */
int cgroup_write(const struct cgroup_procs *cg, size_t i, pid_t pid);
/* Whether the outer helper must write init's pid to cg's fd i: not for the cgroup init is cloned into, nor for a v1
 * cgroup, which init joins itself. */
int cgroup_needs_write(const struct cgroup_procs *cg, size_t i);
/* In init, first thing: moves the calling (single-threaded) process into every v1 cgroup by writing "0" to its
 * `tasks` (must stay "0", not the pid: see cgroup.c). Returns 0, or -1 with errno and *failed set to the index that failed. */
int cgroup_join_self(const struct cgroup_procs *cg, size_t *failed);
/* Closes every fd, into_fd too (in the outer helper once init is placed; in the initjail child and init first
 * thing: they never hold them). */
void cgroup_close(struct cgroup_procs *cg);

#endif
