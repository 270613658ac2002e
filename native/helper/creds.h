/* creds.h — credentials: acting as the user for filesystem work (a scope, restored to root), and the final,
 * irreversible drop before exec. */
#ifndef JAI_CREDS_H
#define JAI_CREDS_H

#include "plan.h"

/* Filesystem access as the user: supplementary groups, fsgid, fsuid (the kernel then checks the user's
 * permissions and drops the fs capabilities from the effective set). Scopes do not nest. */
void creds_enter_user(const struct plan *plan);
/* Back to root: fsuid 0, fsgid 0, no supplementary groups. */
void creds_leave_user(void);
/* PID 2 only: empty bounding and ambient sets, the user's groups, gid and uid (real, effective, saved), verified
 * irreversible, no capabilities left, no_new_privs. */
void creds_drop_final(const struct plan *plan);

#endif
