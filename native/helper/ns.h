/* ns.h — the PID and IPC namespaces: init (PID 1), the program (PID 2), and the outer helper's supervision. */
#ifndef JAI_NS_H
#define JAI_NS_H

#include <stddef.h>
#include <time.h>

#include "cgroup.h"
#include "plan.h"
#include "program.h"

/* Step 11 and the rest of the session. Creates init with clone3(CLONE_NEWPID|CLONE_NEWIPC, plus CLONE_NEWNET for
 * network loopback/none; CLONE_INTO_CGROUP for cg's first v2 directory), writes its pid to any other v2
 * directory's cgroup.procs (a failure kills init and dies), waits until init has joined the v1 ones itself (init
 * dies with `write(PATH/tasks, 0): …` if it cannot), closes cg's fds, waits for the daemon's go, sends
 * `started PID`, notes the session start (CLOCK_REALTIME_COARSE) in *start, releases init, forwards
 * SIGHUP/SIGINT/SIGTERM/SIGQUIT to init, and returns init's wait status once it ended (signals stay blocked). Init
 * closes the held fds (host_held_fds), joins its v1 cgroups and closes its copies of cg's fds, mounts a fresh
 * /proc, brings lo up (network loopback), forks the program (program_exec), forwards signals to its process group,
 * reaps every child, reports `exit N` / `signal N` and exits with the program's code (128+signal for a signal
 * death, 125 when init failed). */
int ns_run(const struct plan *plan, const struct program_io *io, const int *held, size_t nheld, struct cgroup_procs *cg,
	   struct timespec *start);

#endif
