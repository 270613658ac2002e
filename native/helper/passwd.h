/* passwd.h — strict mode's passwd copy, /run/jai/<user>/passwd, bound over the jail's /etc/passwd: the host's
 * /etc/passwd with the sandbox account's home and shell replaced by the user's (upstream §7.1 step 3). */
#ifndef JAI_PASSWD_H
#define JAI_PASSWD_H

#include "host.h"
#include "plan.h"

/* /etc/passwd is read up to this size (a larger one is a setup failure). */
#define PASSWD_MAX (4u * 1024u * 1024u)

/* Opens /run/jai/<user>/passwd (host->user_fd; under the per-user lock) into host->passwd_fd (O_PATH, O_CLOEXEC),
 * creating it first when it is missing: /etc/passwd read as the user (at most PASSWD_MAX bytes), every record
 * named plan->sandbox_user rewritten with the home field plan->home and the shell field plan->shell, every other
 * line copied unchanged (a malformed line is never taken for that record), written to an O_TMPFILE (0444, root's)
 * and linked as `passwd`. An existing copy is reused (teardown removes it); it must be a root-owned regular file
 * writable by nobody. */
void passwd_prepare(const struct plan *plan, struct host_state *host);

#endif
