/* host.h — host-side state (host mount namespace): /run/jai/<user>, its lock and tmp tmpfs, the storage dirs, and
 * the casual overlay kept mounted at /run/jai/<user>/<jail>.home between sessions. */
#ifndef JAI_HOST_H
#define JAI_HOST_H

#include <sys/types.h>

#include "plan.h"

struct host_state {
	int user_fd;      /* /run/jai/<user> */
	int lock_fd;      /* /run/jai/<user>/.lock, flock'ed */
	int tmp_fd;       /* /run/jai/<user>/tmp (the tmpfs root) */
	int tmp_jail_fd;  /* tmp/<jail> */
	int run_jail_fd;  /* tmp/.run/<jail> */
	int shm_jail_fd;  /* tmp/.shm/<jail> */
	int home_fd;      /* the user's home, opened as the user */
	dev_t home_dev;
	ino_t home_ino;
	int storage_fd;   /* opened as the user */
	int changes_fd;   /* <storage>/<jail>.changes */
	int work_fd;      /* <storage>/<jail>.work */
	int overlay_fd;   /* /run/jai/<user>/<jail>.home, the mounted overlay's root */
};

/* Steps 1–2: /run/jai, /run/jai/<user> (0750 + ACL), the lock (held until host_release), the tmp tmpfs and the
 * jail's tmp, .run and .shm dirs. */
void host_prepare_run(const struct plan *plan, struct host_state *host);
/* Step 3, as the user: home, storage, <jail>.changes and <jail>.work. */
void host_prepare_storage(const struct plan *plan, struct host_state *host);
/* Step 4: the overlay at /run/jai/<user>/<jail>.home, mounted with the masks' whiteouts unless already mounted. */
void host_mount_overlay(const struct plan *plan, struct host_state *host);
/* Unlocks and closes every fd of the host state. */
void host_release(struct host_state *host);

#endif
