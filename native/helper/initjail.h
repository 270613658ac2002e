/* initjail.h — the plan's `initjail` program: run once, outside the jail, as the user, before the jailed program
 * starts, when this session created the jail's home (casual: <jail>.changes; strict, bare: <jail>.home), as upstream's
 * --initjail. */
#ifndef JAI_INITJAIL_H
#define JAI_INITJAIL_H

#include "cgroup.h"
#include "plan.h"
#include "program.h"

/* The exit code of a child that could not execute the program (upstream's convention, reported with
 * "(probably couldn't execute)"). */
#define INITJAIL_CANNOT_EXEC 199

/* Forks the initjail child and waits for it; a non-zero exit becomes `notice PATH: exit code N` (with
 * " (probably couldn't execute)" for 199), a signal death `notice PATH: killed by signal N`. The child: back in
 * the host mount namespace (host_ns), stdin /dev/null and stdout/stderr those the program gets (io), no other fd
 * across exec, the same irreversible drop as PID 2 but to the user (strict mode included), cwd home_fd: the
 * jail's home as seen from the host (casual: the overlay root /run/jai/<user>/<jail>.home; strict, bare:
 * <storage>/<jail>.home), the plan's umask, argv [initjail], the plan's env (without JAI_SCRIPT). Before any of
 * that the child closes its copies of cg's fds and waits on a pipe while the helper writes its pid to each of them
 * (`cgroup.procs`, or `tasks` on v1): a failed write kills the child and dies with `write(PATH/FILE, PID): …` (the
 * caller's stage, `initjail`). cg's fds stay open in the helper, for init. */
void initjail_run(const struct plan *plan, const struct program_io *io, int host_ns, int home_fd,
		  struct cgroup_procs *cg);

#endif
