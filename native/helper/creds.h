/* creds.h — credentials: acting as the user (or the sandbox account) for filesystem work (a scope, restored to
 * root), and the final, irreversible drop before exec. */
#ifndef JAI_CREDS_H
#define JAI_CREDS_H

#include "plan.h"

/* Whose credentials: the invoking user's, or the sandbox's (strict: the untrusted account sandbox_uid/sandbox_gid
 * with no supplementary groups; casual and bare: the user's). */
enum creds_who { CREDS_USER, CREDS_SANDBOX };

/* Filesystem access as who: supplementary groups, fsgid, fsuid (the kernel then checks their permissions and drops
 * the fs capabilities from the effective set). Scopes do not nest. */
void creds_enter(const struct plan *plan, enum creds_who who);
/* creds_enter(plan, CREDS_USER). */
void creds_enter_user(const struct plan *plan);
/* Back to root from either scope: fsuid 0, fsgid 0, no supplementary groups. */
void creds_leave_user(void);
/* The final drop (PID 2: CREDS_SANDBOX; the initjail: CREDS_USER): empty bounding and ambient sets, who's groups,
 * gid and uid (real, effective, saved), verified irreversible, no capabilities left, no_new_privs. */
void creds_drop_final(const struct plan *plan, enum creds_who who);
/* The uid and gid of who. */
uid_t creds_uid(const struct plan *plan, enum creds_who who);
gid_t creds_gid(const struct plan *plan, enum creds_who who);

#endif
