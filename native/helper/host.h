/* host.h — host-side state (host mount namespace): /run/jai/<user>, its lock and tmp tmpfs, the storage dirs, the
 * casual overlay kept mounted at /run/jai/<user>/<jail>.home between sessions, and strict/bare mode's private home
 * <storage>/<jail>.home. */
#ifndef JAI_HOST_H
#define JAI_HOST_H

#include <stdbool.h>
#include <stddef.h>
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
	dev_t storage_dev;
	ino_t storage_ino;
	bool config_exists; /* strict/bare: config_dir could be opened as the user (config_dev/ino are its) */
	dev_t config_dev;
	ino_t config_ino;
	int changes_fd;   /* casual: <storage>/<jail>.changes */
	int work_fd;      /* casual: <storage>/<jail>.work */
	/* The root of the jail's home as seen from the host: casual, the mounted overlay's root at
	 * /run/jai/<user>/<jail>.home; strict and bare, <storage>/<jail>.home (opened as the user). */
	int jail_home_fd;
	bool home_created; /* this session created <jail>.changes (casual) or <jail>.home (strict, bare): initjail runs */
	int passwd_fd;    /* strict: /run/jai/<user>/passwd; -1 otherwise */
	int group_fd;     /* strict: /run/jai/<user>/group; -1 otherwise, or without an /etc/group */
	bool has_script;
	char script_name[32];  /* .jairc + 10 characters, in tmp/<jail> */
	char script_env[48];   /* JAI_SCRIPT=/tmp/<script_name> */
	dev_t script_dev;
	ino_t script_ino;
};

/* What the outer helper keeps open for the session's lifetime, after host_release: the tmp tmpfs root
 * (tmp_fd), tmp/<jail> (tmp_jail_fd) and the jail's home root (jail_home_fd). They pin those host mounts (the
 * overlay in casual mode; strict/bare's <storage>/<jail>.home is no mount and is held as the initjail's cwd only),
 * so that a non-lazy unmount fails with EBUSY while a session of the jail runs. casual: also <jail>.changes
 * (changes_fd, opened as the user and owner-checked), walked for the changes summary once the session ended.
 * O_CLOEXEC; every forked child closes them. */
#define HOST_HELD_MAX 4

/* Steps 1–2: /run/jai, /run/jai/<user> (0750 + ACL), the lock (held until host_release), the tmp tmpfs and the
 * jail's tmp, .run and .shm dirs. Sets every fd of host to -1 first. */
void host_prepare_run(const struct plan *plan, struct host_state *host);
/* Step 3, as the user: home, storage, then <jail>.changes and <jail>.work (casual) or <jail>.home and the config
 * dir's identity (strict, bare). */
void host_prepare_storage(const struct plan *plan, struct host_state *host);
/* Step 4: the overlay at /run/jai/<user>/<jail>.home, mounted with the masks' whiteouts unless already mounted. */
void host_mount_overlay(const struct plan *plan, struct host_state *host);
/* Unlocks and closes every fd of the host state but the held ones (changes_fd included). */
void host_release(struct host_state *host);
/* The held fds (see HOST_HELD_MAX) into fds; returns their count. */
size_t host_held_fds(const struct host_state *host, int *fds, size_t max);

/* The startup script (plan key `script`), as the user: an O_TMPFILE (0400) in tmp/<jail>, filled and linked as
 * .jairc + 10 random characters of [+0-9=A-Za-z]; sets has_script, script_name, script_env. */
void host_write_script(const struct plan *plan, struct host_state *host);
/* After the session: removes the script, as the user, if it is still the file written (best effort: warnings
 * only, this runs after the program's exit was reported). */
void host_remove_script(const struct plan *plan, struct host_state *host);

/* For the teardown: /run/jai/<user>, never created, root-owned and not writable by others; *jai_fd is
 * /run/jai. Returns -1 (nothing opened) when /run/jai or /run/jai/<user> does not exist. */
int host_open_user_dir(const struct plan *plan, int *jai_fd);
/* flock on /run/jai/<user>/.lock (created root 0600 when missing). Returns the lock's fd, or -1 when the lock
 * file or the directory was removed (by a teardown, which removes both under the lock) before the lock was
 * obtained: start again from opening /run/jai/<user>. */
int host_lock(int user_fd, const struct plan *plan);

#endif
