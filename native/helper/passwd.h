/* passwd.h — strict mode's passwd and group copies, /run/jai/<user>/passwd and /run/jai/<user>/group, bound over
 * the jail's /etc/passwd and /etc/group: the host's files with the sandbox account's records (named
 * plan->sandbox_user, `jai`) carrying this user's sandbox ids, and in passwd the user's home and shell (upstream
 * §7.1 step 3), so that inside the jail the per-user ids still read as `jai`. */
#ifndef JAI_PASSWD_H
#define JAI_PASSWD_H

#include "host.h"
#include "plan.h"

/* /etc/passwd and /etc/group are read up to this size (a larger one is a setup failure). */
#define PASSWD_MAX (4u * 1024u * 1024u)

/* Opens /run/jai/<user>/passwd and /run/jai/<user>/group (host->user_fd; under the per-user lock) into
 * host->passwd_fd and host->group_fd (O_RDONLY, O_CLOEXEC), creating each first when it is missing or stale:
 * /etc/<file> read as the user (at most PASSWD_MAX bytes), every well-formed record named plan->sandbox_user
 * rewritten — passwd: uid plan->sandbox_uid, gid plan->sandbox_gid, home plan->home, shell plan->shell; group: gid
 * plan->sandbox_gid —, every other line copied unchanged (a malformed line is never taken for that record),
 * written to an O_TMPFILE (0444, root's) and linked. An existing copy is reused when rewriting it would change
 * nothing (same ids, home and shell); otherwise it is unlinked and made again. It must be a root-owned regular file
 * writable by nobody. Another record with the sandbox's id (uid in passwd, gid in group) refuses the session
 * (DIE_REFUSED). No /etc/group: no group copy (host->group_fd -1). Teardown removes both. */
void passwd_prepare(const struct plan *plan, struct host_state *host);

#endif
