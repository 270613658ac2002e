/* jail.c — see jail.h.
 *
 * Why this is safe: nothing is re-resolved from a string in the host namespace after it was checked: grants are
 * cloned from the very fds whose owner was checked, the overlay, the passwd and group copies and the tmp dirs from
 * fds opened with O_NOFOLLOW below root-owned /run/jai, strict/bare's home from the fd opened as the user in the
 * storage dir. In the jail namespace, mount targets are opened as the user (the home) or with the sandbox's
 * credentials (grants: strict mode's untrusted account — this user's own sandbox ids —, who may create them in its
 * private home or /tmp) without following symlinks, so a symlink planted in the home or /tmp cannot redirect a mount
 * onto, say, /etc. Every mount is nosuid and nodev except the new /dev (read-only, holding only the listed device
 * nodes) and its devpts instance. In strict mode every
 * clone is id-mapped before it is attached (the kernel allows it on detached mounts only): through it the user's
 * files are the sandbox account's and nothing else changes owner (idmap.h), so the account reaches the user's
 * files only where a clone shows them, never elsewhere (it is not the user). */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "creds.h"
#include "die.h"
#include "mount.h"
#include "path.h"

static bool jail_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Kernel pseudo filesystems: a grant of one would hand the jail a view of the host (/proc/<pid>/root, fd/ — the
 * user's real terminal —, cgroups, namespaces…) that no mount flag contains. Only real file storage is granted. */
static const long jail_pseudo_fs[] = {
	PROC_SUPER_MAGIC, SYSFS_MAGIC,	      CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEVPTS_SUPER_MAGIC,
	NSFS_MAGIC,	  DEBUGFS_MAGIC,      TRACEFS_MAGIC,	  BPF_FS_MAGIC,	       SECURITYFS_MAGIC,
	0x65735543 /* fusectl */,	      0x62656570 /* configfs */, PSTOREFS_MAGIC, EFIVARFS_MAGIC,
	BINFMTFS_MAGIC, 0x19800202 /* mqueue */, SELINUX_MAGIC, SMACK_MAGIC, AUTOFS_SUPER_MAGIC,
};

static bool jail_is_pseudo_fs(long type)
{
	size_t i;

	for (i = 0; i < sizeof jail_pseudo_fs / sizeof jail_pseudo_fs[0]; i++)
		if (jail_pseudo_fs[i] == type)
			return true;
	return false;
}

/* The path a grant is mounted at must be where its fd really is (in the helper's, i.e. the host's, mount
 * namespace): the client names both, and a mismatch would let it mount its storage or config dir under another
 * name, past the "within storage" check below. */
static void jail_check_grant_path(const struct plan_grant *g)
{
	char link[64], actual[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", g->fd);
	n = readlink(link, actual, sizeof actual - 1);
	if (n < 0)
		die_errno("readlink(%s) (grant %s)", link, g->path);
	actual[n] = '\0';
	if (strcmp(actual, g->path) != 0)
		die_code(DIE_REFUSED, "%s: the granted directory is %s", g->path, actual);
}

void jail_check_grants(const struct plan *p, const struct host_state *h)
{
	size_t i;

	for (i = 0; i < p->ngrants; i++) {
		const struct plan_grant *g = &p->grants[i];
		struct stat st;

		struct statfs sfs;

		if (fstat(g->fd, &st) < 0)
			die_errno("fstat(%s) (grant fd %d)", g->path, g->fd);
		if (!S_ISDIR(st.st_mode))
			die_code(DIE_REFUSED, "%s: not a directory", g->path);
		if (fstatfs(g->fd, &sfs) < 0)
			die_errno("fstatfs(%s)", g->path);
		if (jail_is_pseudo_fs((long)sfs.f_type))
			die_code(DIE_REFUSED, "%s: cannot grant a directory of a kernel pseudo filesystem", g->path);
		jail_check_grant_path(g);
		if (st.st_uid != p->uid)
			die_code(DIE_REFUSED, "%s: owned by %u should be owned by %u", g->path, (unsigned)st.st_uid,
				 (unsigned)p->uid);
		if (g->kind == PLAN_GRANT_CWD && st.st_dev == h->home_dev && st.st_ino == h->home_ino)
			die_code(DIE_REFUSED, "Refusing to grant your entire home directory to jailed code.");
		if (jail_path_within(g->path, p->storage))
			die_code(DIE_REFUSED, "%s: cannot export a directory within %s", g->path, p->storage);
		if (jail_path_within(g->path, p->config_dir))
			die_code(DIE_REFUSED, "%s: cannot export a directory within %s", g->path, p->config_dir);
	}
}

static bool jail_host_has_dir(const char *path)
{
	struct stat st;

	if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return false;
		die_errno("stat(%s)", path);
	}
	return S_ISDIR(st.st_mode);
}

/* A detached clone of the directory (or, for the passwd copy, the file) at fd, made nosuid, nodev, private, plus
 * extra; id-mapped when idmap_fd is not -1. Never clears an attribute: a read-only source mount (an admin's ro
 * bind) stays read-only whatever the grant's kind. */
static int jail_clone(int fd, unsigned int extra, int idmap_fd, const char *what)
{
	const unsigned int safe = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	int clone = mount_clone(fd, "", what);

	if (idmap_fd >= 0)
		mount_set_attrs_idmap(clone, safe | extra, idmap_fd, what);
	else
		mount_set_attrs(clone, safe | extra, 0, what);
	return clone;
}

void jail_take_clones(const struct plan *p, const struct host_state *h, int idmap_fd, struct jail_clones *c)
{
	char run_user[64];
	char home[PLAN_MAX_PATH + PLAN_MAX_JAIL + 16];
	size_t i;

	if (p->mode == PLAN_MODE_CASUAL)
		snprintf(home, sizeof home, "overlay home");
	else
		snprintf(home, sizeof home, "%s/%s.home", p->storage, p->jail);
	c->home = jail_clone(h->jail_home_fd, 0, idmap_fd, home);
	c->passwd = -1;
	if (h->passwd_fd >= 0)
		c->passwd = jail_clone(h->passwd_fd, MOUNT_ATTR_RDONLY, idmap_fd, "passwd copy");
	c->group = -1;
	if (h->group_fd >= 0)
		c->group = jail_clone(h->group_fd, MOUNT_ATTR_RDONLY, idmap_fd, "group copy");
	c->tmp = jail_clone(h->tmp_jail_fd, 0, idmap_fd, "tmp/<jail>");
	c->var_tmp = jail_clone(h->tmp_jail_fd, 0, idmap_fd, "tmp/<jail>");
	c->shm = jail_clone(h->shm_jail_fd, 0, idmap_fd, "tmp/.shm/<jail>");
	snprintf(run_user, sizeof run_user, "/run/user/%u", (unsigned)p->uid);
	c->run_user = -1;
	if (jail_host_has_dir(run_user))
		c->run_user = jail_clone(h->run_jail_fd, 0, idmap_fd, "tmp/.run/<jail>");
	for (i = 0; i < p->ngrants; i++) {
		const struct plan_grant *g = &p->grants[i];

		c->grants[i] = jail_clone(g->fd, g->kind == PLAN_GRANT_RO ? MOUNT_ATTR_RDONLY : 0, idmap_fd, g->path);
		if (close(g->fd) < 0)
			die_errno("close(grant fd %d)", g->fd);
	}
}

int jail_enter(void)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
		.attr_clr = 0,
		.propagation = MS_PRIVATE,
		.userns_fd = 0,
	};
	int host_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);

	if (host_ns < 0)
		die_errno("open(/proc/self/ns/mnt)");
	if (unshare(CLONE_NEWNS) < 0)
		die_errno("unshare(CLONE_NEWNS)");
	/* Private first and in the same call: nothing done from here on propagates back to the host. */
	if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &attr, sizeof attr) < 0)
		die_errno("mount_setattr(/, AT_RECURSIVE, ro|nosuid|nodev|private)");
	return host_ns;
}

/* Moves clone onto the directory at path (opened as root without following symlinks), after detaching whatever
 * was mounted there. A missing path is skipped when optional. */
static void jail_place_system(int clone, const char *path, bool optional)
{
	int target;

	mount_detach_all(path);
	target = path_open_dir(path, O_PATH, 0);
	if (target < 0 && optional && (errno == ENOENT || errno == ENOTDIR)) {
		die_warn("%s does not exist in the jail: not mounted", path);
		return;
	}
	if (target < 0)
		die_errno("open(%s) in the jail", path);
	mount_move(clone, target, path);
	if (close(target) < 0)
		die_errno("close(%s)", path);
}

static const char *jail_who(const struct plan *p, enum creds_who who)
{
	return who == CREDS_SANDBOX && p->mode == PLAN_MODE_STRICT ? p->sandbox_user : p->user;
}

/* Opens (creating missing components with who's credentials when create) a mount target inside the jail, never
 * following a symlink, and checks it is owned by the user or (strict) by the sandbox account: the account may own
 * what it created in its id-mapped home or /tmp, where it shows as the account's while the user owns it on disk. */
static int jail_target(const struct plan *p, const char *path, bool create, enum creds_who who)
{
	uid_t sandbox = creds_uid(p, CREDS_SANDBOX);
	struct stat st;
	int fd;

	creds_enter(p, who);
	fd = path_open_dir(path, O_PATH, create ? 0755 : 0);
	if (fd < 0)
		die_errno("open(%s) in the jail as %s", path, jail_who(p, who));
	creds_leave_user();
	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s) in the jail", path);
	if (st.st_uid != p->uid && sandbox == p->uid)
		die_code(DIE_REFUSED, "%s: mount point in the jail owned by %u should be owned by %u", path,
			 (unsigned)st.st_uid, (unsigned)p->uid);
	if (st.st_uid != p->uid && st.st_uid != sandbox)
		die_code(DIE_REFUSED, "%s: mount point in the jail owned by %u should be owned by %u or %u", path,
			 (unsigned)st.st_uid, (unsigned)p->uid, (unsigned)sandbox);
	return fd;
}

/* strict: the passwd or group copy over /etc/<name>. The jail's /etc is the host's, read-only and root's: opened
 * as root, without following a symlink (a file bind needs a file under it). */
static void jail_mount_etc_copy(int clone, const char *name)
{
	char display[32];
	struct stat st;
	int etc, target;

	snprintf(display, sizeof display, "/etc/%s", name);
	etc = path_open_dir("/etc", O_PATH, 0);
	if (etc < 0)
		die_errno("open(/etc) in the jail");
	target = path_open_one(etc, name, O_PATH);
	if (target < 0)
		die_errno("open(%s) in the jail", display);
	if (fstat(target, &st) < 0)
		die_errno("fstat(%s) in the jail", display);
	if (!S_ISREG(st.st_mode))
		die("%s in the jail: not a regular file", display);
	mount_move(clone, target, display);
	if (close(target) < 0 || close(etc) < 0)
		die_errno("close(%s)", display);
}

static void jail_mknod(int dev, const char *name, unsigned int major, unsigned int minor)
{
	if (mknodat(dev, name, S_IFCHR | 0666, makedev(major, minor)) < 0)
		die_errno("mknodat(/dev/%s)", name);
}

static void jail_symlink(int dev, const char *target, const char *name)
{
	if (symlinkat(target, dev, name) < 0)
		die_errno("symlinkat(/dev/%s -> %s)", name, target);
}

/* PTYs one jail may have open at once (its devpts instance's max=). */
#define JAIL_PTY_MAX "256"

static void jail_mount_dev(int shm_clone, gid_t tty_gid)
{
	const struct mount_opt dev_opts[] = {
		{ "source", "jai-dev" },
		{ "mode", "0755" },
		{ "size", "64k" },
		{ "nr_inodes", "64" },
	};
	char gid[16];
	struct mount_opt pts_opts[] = {
		{ "source", "devpts" },
		{ "newinstance", NULL },
		{ "ptmxmode", "0666" },
		{ "mode", "0620" },
		/* Every devpts instance but the host's draws on kernel.pty.max: without a cap one jail could take them all
		 * from every other jail (the host keeps kernel.pty.reserve for itself). */
		{ "max", JAIL_PTY_MAX },
		{ "gid", gid }, /* last: dropped when there is no tty group */
	};
	size_t npts = sizeof pts_opts / sizeof pts_opts[0];
	int dev, target, pts;

	snprintf(gid, sizeof gid, "%u", (unsigned)tty_gid);
	if (tty_gid == (gid_t)-1)
		npts--;
	mount_detach_all("/dev");
	/* Not nodev: the device nodes below are the point; read-only once populated. */
	dev = mount_new_fs("tmpfs", dev_opts, sizeof dev_opts / sizeof dev_opts[0],
			   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev");
	target = path_open_dir("/dev", O_PATH, 0);
	if (target < 0)
		die_errno("open(/dev) in the jail");
	mount_move(dev, target, "/dev");
	if (close(target) < 0)
		die_errno("close(/dev)");

	jail_mknod(dev, "null", 1, 3);
	jail_mknod(dev, "zero", 1, 5);
	jail_mknod(dev, "full", 1, 7);
	jail_mknod(dev, "random", 1, 8);
	jail_mknod(dev, "urandom", 1, 9);
	jail_mknod(dev, "tty", 5, 0);
	jail_symlink(dev, "pts/ptmx", "ptmx");
	jail_symlink(dev, "/proc/self/fd", "fd");
	jail_symlink(dev, "/proc/self/fd/0", "stdin");
	jail_symlink(dev, "/proc/self/fd/1", "stdout");
	jail_symlink(dev, "/proc/self/fd/2", "stderr");
	if (mkdirat(dev, "pts", 0755) < 0)
		die_errno("mkdirat(/dev/pts)");
	if (mkdirat(dev, "shm", 0755) < 0)
		die_errno("mkdirat(/dev/shm)");

	pts = mount_new_fs("devpts", pts_opts, npts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev/pts");
	target = path_open_one(dev, "pts", O_PATH | O_DIRECTORY);
	if (target < 0)
		die_errno("open(/dev/pts)");
	mount_move(pts, target, "/dev/pts");
	if (close(target) < 0 || close(pts) < 0)
		die_errno("close(/dev/pts)");

	target = path_open_one(dev, "shm", O_PATH | O_DIRECTORY);
	if (target < 0)
		die_errno("open(/dev/shm)");
	mount_move(shm_clone, target, "/dev/shm");
	if (close(target) < 0)
		die_errno("close(/dev/shm)");

	mount_set_attrs(dev, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0, "/dev");
	if (close(dev) < 0)
		die_errno("close(/dev)");
}

static void jail_close_clone(int *fd, const char *what)
{
	if (*fd >= 0 && close(*fd) < 0)
		die_errno("close(clone of %s)", what);
	*fd = -1;
}

void jail_mount(const struct plan *p, struct jail_clones *c, gid_t tty_gid)
{
	char run_user[64];
	size_t i;
	int target;

	/* The user's own home path, as the user (strict/bare: the private home goes over it, hiding all of it). */
	target = jail_target(p, p->home, false, CREDS_USER);
	mount_move(c->home, target, p->home);
	if (close(target) < 0)
		die_errno("close(%s)", p->home);
	jail_close_clone(&c->home, "home");
	if (c->passwd >= 0) {
		jail_mount_etc_copy(c->passwd, "passwd");
		jail_close_clone(&c->passwd, "/etc/passwd");
	}
	if (c->group >= 0) {
		jail_mount_etc_copy(c->group, "group");
		jail_close_clone(&c->group, "/etc/group");
	}

	jail_place_system(c->tmp, "/tmp", false);
	jail_close_clone(&c->tmp, "/tmp");
	jail_place_system(c->var_tmp, "/var/tmp", true);
	jail_close_clone(&c->var_tmp, "/var/tmp");
	if (c->run_user >= 0) {
		snprintf(run_user, sizeof run_user, "/run/user/%u", (unsigned)p->uid);
		jail_place_system(c->run_user, run_user, true);
		jail_close_clone(&c->run_user, run_user);
	}
	jail_mount_dev(c->shm, tty_gid);
	jail_close_clone(&c->shm, "/dev/shm");

	/* Sorted by path: a parent is mounted before anything granted below it. */
	for (i = 0; i < p->ngrants; i++) {
		target = jail_target(p, p->grants[i].path, true, CREDS_SANDBOX);
		mount_move(c->grants[i], target, p->grants[i].path);
		if (close(target) < 0)
			die_errno("close(%s)", p->grants[i].path);
		jail_close_clone(&c->grants[i], p->grants[i].path);
	}
}

/* Which directory the host has at a path (strict, bare), as host_prepare_storage saw it. */
struct jail_outside {
	bool exists;
	dev_t dev;
	ino_t ino;
};

/* Covers a user dir (storage, config) in the jail with a clone of the empty /run/jai cover. Opened with the
 * sandbox's credentials (root walking a client-named path would tell the client which unreadable paths exist),
 * without following any symlink: a symlink in the path means the jail shows something else under that name, not
 * the real dir. Skipped when the jail does not show it, or it is already covered (same filesystem as the cover);
 * strict/bare (outside not NULL): skipped too unless it is the very directory the host has there (st_dev/st_ino:
 * exposed by a grant, or visible on the read-only root), since the jail's private home shows none of the user's
 * own. A permission error refuses the session rather than skipping the cover: a jailed program could chmod its
 * home (or a granted dir) to cause it. */
static void jail_cover_user_dir(const struct plan *p, const char *path, int cover, dev_t cover_dev,
				const struct jail_outside *outside)
{
	struct stat st;
	bool shown;
	int fd, clone, saved;

	if (outside != NULL && !outside->exists)
		return;
	creds_enter(p, CREDS_SANDBOX);
	fd = path_open_dir(path, O_PATH, 0);
	saved = errno;
	creds_leave_user();
	errno = saved;
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
		return;
	if (fd < 0 && errno == EACCES)
		die_code(DIE_REFUSED, "%s: not accessible in the jail, so it cannot be hidden there", path);
	if (fd < 0)
		die_errno("open(%s) in the jail", path);
	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s) in the jail", path);
	/* strict/bare: not the host's directory is the jail's own (in its private home), or the cover already. */
	shown = outside == NULL || (st.st_dev == outside->dev && st.st_ino == outside->ino);
	if (shown && st.st_dev != cover_dev) {
		clone = mount_clone(cover, "", "/run/jai cover");
		mount_move(clone, fd, path);
		if (close(clone) < 0)
			die_errno("close(cover of %s)", path);
	}
	if (close(fd) < 0)
		die_errno("close(%s)", path);
}

void jail_hide(const struct plan *p, const struct host_state *h)
{
	const struct jail_outside storage = { .exists = true, .dev = h->storage_dev, .ino = h->storage_ino };
	const struct jail_outside config = { .exists = h->config_exists, .dev = h->config_dev, .ino = h->config_ino };
	bool casual = p->mode == PLAN_MODE_CASUAL;
	const struct mount_opt opts[] = {
		{ "source", "jai-hidden" },
		{ "mode", "000" },
		{ "size", "4k" },
		{ "nr_inodes", "2" },
	};
	struct stat st;
	int cover, target;

	/* The daemon's socket, every user's overlays and tmp: nothing of /run/jai stays reachable. */
	mount_detach_under("/run/jai");
	cover = mount_new_fs("tmpfs", opts, sizeof opts / sizeof opts[0],
			     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "/run/jai cover");
	target = path_open_dir("/run/jai", O_PATH, 0);
	if (target < 0)
		die_errno("open(/run/jai) in the jail");
	mount_move(cover, target, "/run/jai");
	if (close(target) < 0)
		die_errno("close(/run/jai)");
	if (fstat(cover, &st) < 0)
		die_errno("fstat(/run/jai cover)");
	jail_cover_user_dir(p, p->storage, cover, st.st_dev, casual ? NULL : &storage);
	jail_cover_user_dir(p, p->config_dir, cover, st.st_dev, casual ? NULL : &config);
	if (close(cover) < 0)
		die_errno("close(/run/jai cover)");
}
