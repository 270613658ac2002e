/* jail.h — the jail's view of the filesystem, built in a new mount namespace from detached clones taken in the
 * host namespace. */
#ifndef JAI_JAIL_H
#define JAI_JAIL_H

#include <sys/types.h>

#include "host.h"
#include "plan.h"

struct jail_clones {
	int home;                      /* casual: the overlay; strict, bare: <storage>/<jail>.home */
	int passwd;                    /* strict: /run/jai/<user>/passwd; -1 otherwise */
	int group;                     /* strict: /run/jai/<user>/group; -1 otherwise (or without an /etc/group) */
	int tmp;                       /* tmp/<jail> for /tmp */
	int var_tmp;                   /* tmp/<jail> for /var/tmp */
	int run_user;                  /* tmp/.run/<jail> for /run/user/<uid>, or -1 */
	int shm;                       /* tmp/.shm/<jail> for /dev/shm */
	int grants[PLAN_MAX_GRANTS];   /* parallel to plan->grants */
};

/* Step 5: every grant fd is a directory owned by the user; the cwd grant is not the home directory; no grant lies
 * within the storage or config dir. */
void jail_check_grants(const struct plan *plan, const struct host_state *host);
/* Detached clones (nosuid, nodev, private; ro for ro grants and the passwd and group copies) of everything the jail
 * mounts, taken in the host namespace (the grant fds and /run/jai belong to it); in strict mode each is also
 * id-mapped with the user namespace idmap_fd (idmap.h; -1 in casual and bare mode). Closes the plan's grant fds. */
void jail_take_clones(const struct plan *plan, const struct host_state *host, int idmap_fd,
		      struct jail_clones *clones);
/* Step 6: unshare(CLONE_NEWNS); / recursively read-only, nosuid, nodev, private. Returns an fd (O_CLOEXEC) of the
 * host mount namespace, opened before leaving it (for the initjail child's setns). */
int jail_enter(void);
/* Steps 7–8: home, /etc/passwd and /etc/group (strict), /tmp, /var/tmp, /run/user/<uid>, a minimal /dev (devpts
 * gid tty_gid unless (gid_t)-1), then the grants, parents first, their mount points opened or created with the
 * sandbox's credentials (creds.h). Closes the clones. */
void jail_mount(const struct plan *plan, struct jail_clones *clones, gid_t tty_gid);
/* Step 9: everything under /run/jai detached and covered; the storage and config dirs covered where the jail shows
 * them (strict, bare: only where it shows the very directory the host has, as identified in host). */
void jail_hide(const struct plan *plan, const struct host_state *host);

#endif
