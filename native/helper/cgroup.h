/* cgroup.h — placing the session in the cgroups the daemon prepared (plan key `cgroup`): the helper only writes
 * the initjail child's and init's pids into each `<dir>/cgroup.procs`; the daemon creates the directories and sets
 * their limits. */
#ifndef JAI_CGROUP_H
#define JAI_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "plan.h"

struct cgroup_procs {
	size_t n;
	int fds[PLAN_MAX_CGROUPS];            /* `<dir>/cgroup.procs`, O_WRONLY|O_CLOEXEC */
	const char *dirs[PLAN_MAX_CGROUPS];   /* the plan's paths, for messages */
	/* The first cgroup v2 directory (O_PATH|O_CLOEXEC), or -1: init is cloned straight into it
	 * (CLONE_INTO_CGROUP), so its pid is not written there; into_index is its index in fds/dirs. */
	int into_fd;
	size_t into_index;
};

/* Host stage (stage `cgroup`), as root: opens each plan cgroup's cgroup.procs for writing without following a
 * symlink in any component and checks that it is on a cgroup or cgroup2 filesystem. Sets cg->n to 0 first. */
void cgroup_open(const struct plan *plan, struct cgroup_procs *cg);
/* Writes pid (decimal) to cg's fd i. Returns 0, or -1 with errno (a short write is EIO). */
int cgroup_write(const struct cgroup_procs *cg, size_t i, pid_t pid);
/* Whether init's pid must be written to cg's fd i (not the cgroup it is cloned into). */
int cgroup_needs_write(const struct cgroup_procs *cg, size_t i);
/* Closes every fd, into_fd too (in the outer helper once init is placed; in the initjail child and init first
 * thing: they never hold them). */
void cgroup_close(struct cgroup_procs *cg);

#endif
