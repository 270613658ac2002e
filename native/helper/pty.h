/* pty.h — the session's terminal: a fresh PTY from the jail's own devpts instance. */
#ifndef JAI_PTY_H
#define JAI_PTY_H

#include <sys/types.h>

#include "plan.h"

/* The gid of group "tty" from /etc/group (read directly, no NSS modules in a root process), or (gid_t)-1. */
gid_t pty_tty_gid(void);
/* Step 10: opens /dev/pts/ptmx (the jail's devpts), unlocks it, opens the slave with TIOCGPTPEER, gives the slave
 * to the program's uid (the user, or strict mode's sandbox account; mode 0620, group tty_gid or the program's gid),
 * sets the window size, sends the master on the status socket as a `pty` record and closes it. Returns the slave
 * (O_CLOEXEC). */
int pty_open(const struct plan *plan, gid_t tty_gid);

#endif
