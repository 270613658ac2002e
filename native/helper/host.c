/* host.c — see host.h.
 *
 * Why this is safe: root creates only below /run/jai (root-owned, not writable by anyone else: checked on each fd
 * opened with O_NOFOLLOW), so no user can plant a symlink or a directory there; everything below the user's home
 * and storage is created and opened as the user (creds_enter_user), without following symlinks, and its owner is
 * checked on the fd that is used afterwards. The overlay's layers are passed to the kernel by those fds. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "creds.h"
#include "die.h"
#include "fdio.h"
#include "mount.h"
#include "path.h"

#define HOST_OVERLAYFS_MAGIC 0x794c7630L
#define FUSE_SUPER_MAGIC 0x65735546L
#define HOST_TMPFS_MAGIC 0x01021994L

/* A directory fd must be root-owned and not writable by group or others: then only root creates in it. */
static void host_require_root_dir(int fd, const char *display)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s)", display);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0)
		die("%s: owned by %u with mode %04o, should be a root-owned directory not writable by others", display,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
}

/* Opens (creating if missing) a directory below a root-owned parent, and checks it is root-owned and not writable
 * by group or others. Never follows a symlink. */
static int host_root_dir(int parent, const char *name, mode_t mode, const char *display)
{
	int fd;

	if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
		die_errno("mkdirat(%s)", display);
	fd = path_open_one(parent, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		die_errno("open(%s)", display);
	host_require_root_dir(fd, display);
	return fd;
}

/* The same without creating: -1 when it does not exist. */
static int host_existing_root_dir(int parent, const char *name, const char *display)
{
	int fd = path_open_one(parent, name, O_RDONLY | O_DIRECTORY);

	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0)
		die_errno("open(%s)", display);
	host_require_root_dir(fd, display);
	return fd;
}

/* A directory inside the per-user tmpfs (only root can create there): created if missing, then owner and mode set
 * on the fd every time so that they are exactly what the jail expects. */
static int host_tmp_dir(int parent, const char *name, mode_t mode, uid_t uid, gid_t gid, const char *display)
{
	int fd;

	if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
		die_errno("mkdirat(%s)", display);
	fd = path_open_one(parent, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		die_errno("open(%s)", display);
	if (mount_is_root(fd, display))
		die("%s: unexpected mount point", display);
	if (fchown(fd, uid, gid) < 0)
		die_errno("fchown(%s, %u, %u)", display, (unsigned)uid, (unsigned)gid);
	if (fchmod(fd, mode) < 0)
		die_errno("fchmod(%s, %04o)", display, (unsigned)mode);
	return fd;
}

/* The access ACL of /run/jai/<user>: user::rwx user:<uid>:r-x group::--- mask::r-x other::---, in the kernel's
 * xattr format (little-endian header version 2, then {u16 tag, u16 perm, u32 id} sorted by tag). */
static void host_set_user_acl(int fd, uid_t uid, const char *display)
{
	static const uint32_t undefined = 0xffffffffu;
	const struct {
		uint16_t tag, perm;
		uint32_t id;
	} entries[] = {
		{ 0x01, 7, undefined }, /* ACL_USER_OBJ */
		{ 0x02, 5, uid },       /* ACL_USER */
		{ 0x04, 0, undefined }, /* ACL_GROUP_OBJ */
		{ 0x10, 5, undefined }, /* ACL_MASK */
		{ 0x20, 0, undefined }, /* ACL_OTHER */
	};
	unsigned char buf[4 + sizeof entries / sizeof entries[0] * 8];
	size_t i, o = 0;

	buf[o++] = 2; /* version, u32 little-endian */
	buf[o++] = 0;
	buf[o++] = 0;
	buf[o++] = 0;
	for (i = 0; i < sizeof entries / sizeof entries[0]; i++) {
		buf[o++] = (unsigned char)(entries[i].tag & 0xff);
		buf[o++] = (unsigned char)(entries[i].tag >> 8);
		buf[o++] = (unsigned char)(entries[i].perm & 0xff);
		buf[o++] = (unsigned char)(entries[i].perm >> 8);
		buf[o++] = (unsigned char)(entries[i].id & 0xff);
		buf[o++] = (unsigned char)((entries[i].id >> 8) & 0xff);
		buf[o++] = (unsigned char)((entries[i].id >> 16) & 0xff);
		buf[o++] = (unsigned char)(entries[i].id >> 24);
	}
	if (fsetxattr(fd, "system.posix_acl_access", buf, o, 0) < 0)
		die_errno("fsetxattr(%s, system.posix_acl_access)", display);
}

int host_lock(int user_fd, const struct plan *p)
{
	char display[PLAN_MAX_USER + 32];
	struct stat st, now;
	int fd, r;

	snprintf(display, sizeof display, "/run/jai/%s/.lock", p->user);
	/* Only root can create in /run/jai/<user>: O_CREAT|O_NOFOLLOW cannot be redirected. ENOENT: the directory
	 * itself was removed since it was opened. */
	fd = openat(user_fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0)
		die_errno("open(%s)", display);
	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s)", display);
	if (!S_ISREG(st.st_mode) || st.st_uid != 0)
		die("%s: not a root-owned regular file", display);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			die_errno("flock(%s)", display);
	/* A teardown unlinks the lock file (and may remove the directory) while holding the lock: a lock on a file
	 * that is no longer the one at .lock excludes nobody, so start again. */
	r = fstatat(user_fd, ".lock", &now, AT_SYMLINK_NOFOLLOW);
	if (r < 0 && errno != ENOENT)
		die_errno("fstatat(%s)", display);
	if (r < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
		if (close(fd) < 0)
			die_errno("close(%s)", display);
		return -1;
	}
	return fd;
}

int host_open_user_dir(const struct plan *p, int *jai_fd)
{
	char display[PLAN_MAX_USER + 32];
	int run_fd, user_fd;

	run_fd = open("/run", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run_fd < 0)
		die_errno("open(/run)");
	*jai_fd = host_existing_root_dir(run_fd, "jai", "/run/jai");
	if (close(run_fd) < 0)
		die_errno("close(/run)");
	if (*jai_fd < 0)
		return -1;
	snprintf(display, sizeof display, "/run/jai/%s", p->user);
	user_fd = host_existing_root_dir(*jai_fd, p->user, display);
	if (user_fd < 0) {
		if (close(*jai_fd) < 0)
			die_errno("close(/run/jai)");
		*jai_fd = -1;
	}
	return user_fd;
}

void host_prepare_run(const struct plan *p, struct host_state *h)
{
	char display[PLAN_MAX_PATH + 64];
	int run_fd, jai_fd, attempt;

	h->user_fd = h->lock_fd = h->tmp_fd = h->tmp_jail_fd = h->run_jail_fd = h->shm_jail_fd = -1;
	h->home_fd = h->storage_fd = h->changes_fd = h->work_fd = h->jail_home_fd = h->passwd_fd = h->group_fd = -1;
	h->home_created = h->config_exists = h->has_script = false;

	run_fd = open("/run", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run_fd < 0)
		die_errno("open(/run)");
	jai_fd = host_root_dir(run_fd, "jai", 0755, "/run/jai");
	if (fchmod(jai_fd, 0755) < 0)
		die_errno("fchmod(/run/jai, 0755)");
	snprintf(display, sizeof display, "/run/jai/%s", p->user);
	/* Bounded: each retry means a teardown removed the lock in between. */
	for (attempt = 0;; attempt++) {
		if (attempt == 100)
			die("%s/.lock: removed 100 times while waiting for it", display);
		h->user_fd = host_root_dir(jai_fd, p->user, 0750, display);
		if (fchown(h->user_fd, 0, 0) < 0)
			die_errno("fchown(%s, 0, 0)", display);
		if (fchmod(h->user_fd, 0750) < 0)
			die_errno("fchmod(%s, 0750)", display);
		host_set_user_acl(h->user_fd, p->uid, display);
		h->lock_fd = host_lock(h->user_fd, p);
		if (h->lock_fd >= 0)
			break;
		if (close(h->user_fd) < 0)
			die_errno("close(%s)", display);
	}
	if (close(jai_fd) < 0 || close(run_fd) < 0)
		die_errno("close(/run/jai)");

	snprintf(display, sizeof display, "/run/jai/%s/tmp", p->user);
	h->tmp_fd = host_root_dir(h->user_fd, "tmp", 0755, display);
	if (!mount_is_root(h->tmp_fd, display)) {
		const struct mount_opt opts[] = {
			{ "source", "jai-tmp" },
			{ "mode", "0755" },
			{ "size", "25%" },
		};
		int mnt = mount_new_fs("tmpfs", opts, sizeof opts / sizeof opts[0],
				       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, display);

		mount_move(mnt, h->tmp_fd, display);
		if (close(mnt) < 0 || close(h->tmp_fd) < 0)
			die_errno("close(%s)", display);
		h->tmp_fd = host_root_dir(h->user_fd, "tmp", 0755, display);
		if (!mount_is_root(h->tmp_fd, display))
			die("%s: not a mount point after mounting it", display);
	}
	if (mount_fs_type(h->tmp_fd, display) != HOST_TMPFS_MAGIC)
		die("%s: not a tmpfs", display);

	snprintf(display, sizeof display, "/run/jai/%s/tmp/%s", p->user, p->jail);
	h->tmp_jail_fd = host_tmp_dir(h->tmp_fd, p->jail, 01777, 0, 0, display);
	snprintf(display, sizeof display, "/run/jai/%s/tmp/.run", p->user);
	{
		int run_dir = host_tmp_dir(h->tmp_fd, ".run", 0755, 0, 0, display);

		snprintf(display, sizeof display, "/run/jai/%s/tmp/.run/%s", p->user, p->jail);
		h->run_jail_fd = host_tmp_dir(run_dir, p->jail, 0700, p->uid, p->gid, display);
		if (close(run_dir) < 0)
			die_errno("close(tmp/.run)");
	}
	snprintf(display, sizeof display, "/run/jai/%s/tmp/.shm", p->user);
	{
		int shm_dir = host_tmp_dir(h->tmp_fd, ".shm", 0755, 0, 0, display);

		snprintf(display, sizeof display, "/run/jai/%s/tmp/.shm/%s", p->user, p->jail);
		h->shm_jail_fd = host_tmp_dir(shm_dir, p->jail, 01777, 0, 0, display);
		if (close(shm_dir) < 0)
			die_errno("close(tmp/.shm)");
	}
}

/* A directory of the user's: fd's owner must be the user. */
static void host_require_owner(int fd, const struct plan *p, const char *display, struct stat *out)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s)", display);
	if (!S_ISDIR(st.st_mode))
		die("%s: not a directory", display);
	if (st.st_uid != p->uid)
		die_code(DIE_REFUSED, "%s: owned by %u should be owned by %u", display, (unsigned)st.st_uid,
			 (unsigned)p->uid);
	if (out != NULL)
		*out = st;
}

/* <storage>/<name> as the user: created 0700 if missing (*created says whether this call did), never a symlink,
 * owned by the user, not a mount point. */
static int host_user_subdir(int storage_fd, const struct plan *p, const char *suffix, bool *created)
{
	char name[PLAN_MAX_JAIL + 16];
	char display[PLAN_MAX_PATH + PLAN_MAX_JAIL + 16];
	int fd;

	snprintf(name, sizeof name, "%s.%s", p->jail, suffix);
	snprintf(display, sizeof display, "%s/%s", p->storage, name);
	*created = mkdirat(storage_fd, name, 0700) == 0;
	if (!*created && errno != EEXIST)
		die_errno("mkdirat(%s) as %s", display, p->user);
	fd = path_open_one(storage_fd, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		die_errno("open(%s) as %s", display, p->user);
	host_require_owner(fd, p, display, NULL);
	if (mount_is_root(fd, display))
		die("%s: must not be a mount point", display);
	return fd;
}

/* The overlay is mounted by root, so copy-up keeps a lower file's owner and mode: a FUSE home (allow_other) could
 * present a setuid-root file that copy-up would then create for real in the storage dir. Refused. */
static void host_refuse_fuse_home(int fd, const char *display)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		die_errno("fstatfs(%s)", display);
	if (sfs.f_type == FUSE_SUPER_MAGIC)
		die_code(DIE_REFUSED, "%s: a FUSE home directory cannot be the lower layer of a casual overlay", display);
}

/* strict/bare: which directory the config dir is on the host, as the user sees it (jail_hide covers it in the jail
 * only where the jail shows that very directory). Absent, or behind a symlink: nothing to identify. */
static void host_identify_config(const struct plan *p, struct host_state *h)
{
	struct stat st;
	int fd = path_open_dir(p->config_dir, O_PATH, 0);

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
		return;
	if (fd < 0)
		die_errno("open(%s) as %s", p->config_dir, p->user);
	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s)", p->config_dir);
	if (close(fd) < 0)
		die_errno("close(%s)", p->config_dir);
	h->config_exists = true;
	h->config_dev = st.st_dev;
	h->config_ino = st.st_ino;
}

void host_prepare_storage(const struct plan *p, struct host_state *h)
{
	struct stat st;
	bool work_created;

	creds_enter_user(p);
	h->home_fd = path_open_dir(p->home, O_RDONLY, 0);
	if (h->home_fd < 0)
		die_errno("open(%s) as %s", p->home, p->user);
	host_require_owner(h->home_fd, p, p->home, &st);
	/* Only the casual overlay reads the home as a layer; strict and bare mount a private home instead. */
	if (p->mode == PLAN_MODE_CASUAL)
		host_refuse_fuse_home(h->home_fd, p->home);
	h->home_dev = st.st_dev;
	h->home_ino = st.st_ino;

	h->storage_fd = path_open_dir(p->storage, O_RDONLY, 0700);
	if (h->storage_fd < 0)
		die_errno("open(%s) as %s", p->storage, p->user);
	host_require_owner(h->storage_fd, p, p->storage, &st);
	if ((st.st_mode & 077) != 0 && fchmod(h->storage_fd, st.st_mode & 0700) < 0)
		die_errno("fchmod(%s, %04o) as %s", p->storage, (unsigned)(st.st_mode & 0700), p->user);
	h->storage_dev = st.st_dev;
	h->storage_ino = st.st_ino;

	if (p->mode == PLAN_MODE_CASUAL) {
		h->changes_fd = host_user_subdir(h->storage_fd, p, "changes", &h->home_created);
		h->work_fd = host_user_subdir(h->storage_fd, p, "work", &work_created);
	} else {
		/* The private home: the user's (0700), so that through strict mode's id mapping the jail sees it as the
		 * sandbox account's and whatever it creates there lands on disk as the user's. */
		h->jail_home_fd = host_user_subdir(h->storage_fd, p, "home", &h->home_created);
		host_identify_config(p, h);
	}
	creds_leave_user();
}

/* A whiteout (char device 0:0, which needs no CAP_MKNOD) for each mask, made as the user relative to the changes
 * dir; missing parents are created 0700. An existing entry is left alone (the mask is already in effect or the
 * user's own change wins); anything else is a warning, as upstream. */
static void host_make_whiteouts(const struct plan *p, int changes_fd)
{
	size_t i;

	for (i = 0; i < p->nmasks; i++) {
		char parent[PLAN_MAX_PATH + 1];
		const char *mask = p->masks[i];
		const char *slash = strrchr(mask, '/');
		const char *leaf = slash == NULL ? mask : slash + 1;
		int dir = changes_fd;

		if (slash != NULL) {
			size_t n = (size_t)(slash - mask);

			memcpy(parent, mask, n);
			parent[n] = '\0';
			dir = path_openat_dir(changes_fd, parent, O_PATH, 0700);
			if (dir < 0) {
				if (errno != ENOTDIR && errno != EEXIST)
					die_warn("mask %s: cannot open its parent in the changes dir: %s", mask,
					     strerror(errno));
				continue;
			}
		}
		if (mknodat(dir, leaf, S_IFCHR | 0000, makedev(0, 0)) < 0 && errno != EEXIST)
			die_warn("mask %s: mknodat(whiteout): %s", mask, strerror(errno));
		if (dir != changes_fd && close(dir) < 0)
			die_errno("close(mask parent)");
	}
}

void host_mount_overlay(const struct plan *p, struct host_state *h)
{
	char name[PLAN_MAX_JAIL + 16];
	char display[PLAN_MAX_PATH + PLAN_MAX_JAIL + 64];
	char source[PLAN_MAX_JAIL + 32];
	struct stat st;
	int fd;

	snprintf(name, sizeof name, "%s.home", p->jail);
	snprintf(display, sizeof display, "/run/jai/%s/%s", p->user, name);
	if (mkdirat(h->user_fd, name, 0755) < 0 && errno != EEXIST)
		die_errno("mkdirat(%s)", display);
	fd = path_open_one(h->user_fd, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		die_errno("open(%s)", display);
	if (!mount_is_root(fd, display)) {
		int mnt;

		/* Only root creates in /run/jai/<user>: the mount point must be ours. */
		if (fstat(fd, &st) < 0)
			die_errno("fstat(%s)", display);
		if (st.st_uid != 0)
			die("%s: owned by %u, should be owned by root", display, (unsigned)st.st_uid);
		creds_enter_user(p);
		host_make_whiteouts(p, h->changes_fd);
		creds_leave_user();
		snprintf(source, sizeof source, "jai-%s", name);
		mnt = mount_new_overlay(source, h->home_fd, h->changes_fd, h->work_fd,
					MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
		mount_move(mnt, fd, display);
		if (close(mnt) < 0 || close(fd) < 0)
			die_errno("close(%s)", display);
		fd = path_open_one(h->user_fd, name, O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			die_errno("open(%s)", display);
		if (!mount_is_root(fd, display))
			die("%s: not a mount point after mounting it", display);
	} else if (p->nmasks > 0) {
		/* The user should know their masks are not in effect (upstream warns): a record of its own, so that the
		 * daemon can phrase it; best effort, as the session goes on either way. */
		die_warn("masks ignored because %s already mounted", display);
		(void)fdio_send_record(p->status_fd, "masks-ignored %s", display);
	}
	if (mount_fs_type(fd, display) != HOST_OVERLAYFS_MAGIC)
		die("%s: mounted, but not an overlay", display);
	h->jail_home_fd = fd;
}

static void host_close(int *fd, const char *what)
{
	if (*fd >= 0 && close(*fd) < 0)
		die_errno("close(%s)", what);
	*fd = -1;
}

void host_release(struct host_state *h)
{
	/* casual: changes_fd stays (a held fd) for the changes summary after the session. */
	host_close(&h->work_fd, "work dir");
	host_close(&h->storage_fd, "storage dir");
	host_close(&h->home_fd, "home");
	host_close(&h->shm_jail_fd, "tmp/.shm/<jail>");
	host_close(&h->run_jail_fd, "tmp/.run/<jail>");
	host_close(&h->passwd_fd, "/run/jai/<user>/passwd");
	host_close(&h->group_fd, "/run/jai/<user>/group");
	/* Closing the lock's only fd releases the flock. */
	host_close(&h->lock_fd, ".lock");
	host_close(&h->user_fd, "/run/jai/<user>");
}

size_t host_held_fds(const struct host_state *h, int *fds, size_t max)
{
	const int held[HOST_HELD_MAX] = { h->tmp_fd, h->tmp_jail_fd, h->jail_home_fd, h->changes_fd };
	size_t i, n = 0;

	for (i = 0; i < HOST_HELD_MAX && n < max; i++)
		if (held[i] >= 0)
			fds[n++] = held[i];
	return n;
}

/* `.jairc` + 10 characters of [+0-9=A-Za-z] (64 of them: 6 random bits each), as upstream. */
static void host_script_name(char *name, size_t size)
{
	static const char alphabet[] = "+0123456789=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char bytes[10];
	size_t got = 0, i;

	while (got < sizeof bytes) {
		ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("getrandom(%zu)", sizeof bytes);
		got += (size_t)n;
	}
	snprintf(name, size, ".jairc");
	for (i = 0; i < sizeof bytes; i++)
		name[6 + i] = alphabet[bytes[i] & 63];
	name[6 + sizeof bytes] = '\0';
}

/* Why this is safe: the file is created, written and linked with the user's fsuid/fsgid, so it is the user's and
 * the kernel applies the user's permissions in the 01777 tmp/<jail> (a root-owned directory on the per-user tmpfs,
 * opened with O_NOFOLLOW). O_TMPFILE makes it nameless until it is complete; linkat never replaces an existing
 * name (EEXIST: another random name), so nothing the jail planted is overwritten or followed. The link goes through
 * /proc/self/fd with AT_SYMLINK_FOLLOW because AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, which the user scope has
 * dropped from the effective set. */
void host_write_script(const struct plan *p, struct host_state *h)
{
	char display[PLAN_MAX_USER + PLAN_MAX_JAIL + 64];
	char proc[64];
	struct stat st;
	size_t done = 0;
	int fd, attempt;

	snprintf(display, sizeof display, "/run/jai/%s/tmp/%s", p->user, p->jail);
	creds_enter_user(p);
	fd = openat(h->tmp_jail_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0400);
	if (fd < 0)
		die_errno("open(%s, O_TMPFILE) as %s", display, p->user);
	while (done < p->script_len) {
		ssize_t n = write(fd, p->script + done, p->script_len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("write(%s/<startup script>) as %s", display, p->user);
		done += (size_t)n;
	}
	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s/<startup script>)", display);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	for (attempt = 0;; attempt++) {
		if (attempt == 100)
			die("linkat(%s/.jairc…): 100 random names taken", display);
		host_script_name(h->script_name, sizeof h->script_name);
		if (linkat(AT_FDCWD, proc, h->tmp_jail_fd, h->script_name, AT_SYMLINK_FOLLOW) == 0)
			break;
		if (errno != EEXIST)
			die_errno("linkat(%s, %s/%s) as %s", proc, display, h->script_name, p->user);
	}
	if (close(fd) < 0)
		die_errno("close(%s/%s)", display, h->script_name);
	creds_leave_user();
	h->has_script = true;
	h->script_dev = st.st_dev;
	h->script_ino = st.st_ino;
	snprintf(h->script_env, sizeof h->script_env, "%s=/tmp/%s", PLAN_SCRIPT_ENV, h->script_name);
}

/* As upstream's init on exit: the script goes unless the jail replaced it (then it is the user's own file). As the
 * user, so that whatever the name points to by now, nothing is removed that the user could not remove. */
void host_remove_script(const struct plan *p, struct host_state *h)
{
	struct stat st;

	if (!h->has_script)
		return;
	creds_enter_user(p);
	if (fstatat(h->tmp_jail_fd, h->script_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			die_warn("fstatat(/tmp/%s): %s", h->script_name, strerror(errno));
	} else if (st.st_dev == h->script_dev && st.st_ino == h->script_ino &&
		   unlinkat(h->tmp_jail_fd, h->script_name, 0) < 0 && errno != ENOENT) {
		die_warn("unlinkat(/tmp/%s): %s", h->script_name, strerror(errno));
	}
	creds_leave_user();
	h->has_script = false;
}
