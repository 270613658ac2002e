/* program.h — PID 2: the jailed program's last steps as root, the irreversible drop, and exec. */
#ifndef JAI_PROGRAM_H
#define JAI_PROGRAM_H

#include "plan.h"

/* The fds the program's stdio comes from (pty slave or fd:N; -1 for null, opened in the jail). */
struct program_io {
	int stdio[3];
	int pty_slave; /* -1 without a pty */
};

/* Puts src[0..2] on fds 0–2 (each ≥ 3: fds 0–2 stay occupied until then) and marks every other fd close-on-exec
 * (not closed: the status socket stays usable to report an exec failure). */
void program_install_stdio(const int src[3]);
/* Default dispositions for every signal and an empty mask (what the exec'd program must start with). */
void program_reset_signals(void);
/* Step 12; never returns: execs, or reports `error 125|126|127 ...` and exits with that code. Runs as the sandbox
 * (creds.h: strict mode's untrusted account, else the user); a missing cwd in strict/bare mode without a cwd grant
 * sends `notice No "CWD" in jail, changed to home directory` and starts in the home instead. */
_Noreturn void program_exec(const struct plan *plan, const struct program_io *io);

#endif
