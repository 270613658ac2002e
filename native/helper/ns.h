/* ns.h — the PID and IPC namespaces: init (PID 1), the program (PID 2), and the outer helper's supervision. */
#ifndef JAI_NS_H
#define JAI_NS_H

#include "plan.h"
#include "program.h"

/* Step 11 and the rest of the session; never returns. Creates init with clone3(CLONE_NEWPID|CLONE_NEWIPC), sends
 * `started PID`, forwards SIGHUP/SIGINT/SIGTERM/SIGQUIT to init, and exits with init's code: the program's exit
 * code, 128+signal for a signal death, or 125 when init failed. Init mounts a fresh /proc, forks the program
 * (program_exec), forwards signals to its process group, reaps every child, and reports `exit N` / `signal N`. */
_Noreturn void ns_run(const struct plan *plan, const struct program_io *io);

#endif
