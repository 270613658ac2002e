/* teardown.c — see teardown.h.
 *
 * Why this is safe: everything root removes or unmounts is reached from /run/jai/<user> opened with O_NOFOLLOW and
 * checked root-owned and not writable by others (host_open_user_dir), so only root created what is in it; mount
 * points are unmounted relative to their parent directory opened without following any symlink (mount_unmount_at),
 * never lazily, so a mount that is in use stays (EBUSY: the user is told) and no session loses its files; entries are
 * removed without recursing (a directory that is not empty stays) and only when root-owned. The storage dir is
 * opened as the user (the kernel applies the user's permissions: root reveals and touches nothing the user could not
 * name), owner checked; the work dirs in it are opened without following symlinks and owner checked, and in them root
 * deletes only inside root-owned subdirectories (the overlay's own work/ and index/: the user cannot write there, nor
 * move a root-owned directory into their work dir, which the `..` check on the fd confirms), only entries that are
 * not directories and hold no data (empty regular files, whiteouts and other non-regular files). All under the
 * per-user lock, so no session sets up the same state meanwhile; the lock file is unlinked while held, which
 * host_lock detects. */
#include "teardown.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "creds.h"
#include "die.h"
#include "fdio.h"
#include "host.h"
#include "mount.h"
#include "path.h"

struct teardown {
	const struct plan *p;
	int jai_fd;  /* /run/jai */
	int user_fd; /* /run/jai/<user> */
	char dir[PLAN_MAX_USER + 16]; /* "/run/jai/<user>" */
	int result;  /* 0, or 1 once something failed */
};

static _Noreturn void teardown_exit(const struct plan *p, int result)
{
	/* Best effort: the exit code says the same if the daemon is gone. */
	(void)fdio_send_record(p->status_fd, "exit %d", result);
	_exit(result);
}

static bool teardown_is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* A directory stream over dirfd's directory (a new open file: dirfd stays usable and open). */
static DIR *teardown_opendir(int dirfd, const char *display)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		die_errno("open(%s)", display);
	d = fdopendir(fd);
	if (d == NULL)
		die_errno("fdopendir(%s)", display);
	return d;
}

static void teardown_closedir(DIR *d, const char *display)
{
	if (closedir(d) < 0)
		die_errno("closedir(%s)", display);
}

/* readdir with errors told apart from the end. */
static struct dirent *teardown_readdir(DIR *d, const char *display)
{
	struct dirent *e;

	errno = 0;
	e = readdir(d);
	if (e == NULL && errno != 0)
		die_errno("readdir(%s)", display);
	return e;
}

/* Unmounts the mount(s) on name in parent_fd (stacked ones too), never lazily. Returns true when nothing is
 * mounted there any more; false after an `umount("PATH"): …` notice. */
static bool teardown_unmount(struct teardown *t, int parent_fd, const char *name, const char *display)
{
	int i;

	/* Bounded: each round removes the topmost mount of a finite stack. */
	for (i = 0; i < 64; i++) {
		if (mount_unmount_at(parent_fd, name) == 0)
			continue;
		if (errno == EINVAL || errno == ENOENT)
			return true; /* not (or no longer) a mount point */
		die_notice("umount(\"%s\"): %s", display, strerror(errno));
		t->result = 1;
		return false;
	}
	die_notice("umount(\"%s\"): more than 64 stacked mounts", display);
	t->result = 1;
	return false;
}

/* Every mount below /run/jai/<user>, deepest first (from this namespace's mountinfo). Returns true when all went. */
static bool teardown_unmount_all(struct teardown *t)
{
	size_t dlen = strlen(t->dir);
	size_t n, i;
	char *info;
	char **points = mount_points_under(t->dir, false, &n, &info);
	bool ok = true;

	for (i = 0; i < n; i++) {
		char parent_rel[PATH_MAX];
		const char *rel = points[i] + dlen + 1;
		const char *slash = strrchr(rel, '/');
		int parent = t->user_fd;

		if (rel[0] == '\0')
			continue;
		if (slash != NULL) {
			size_t plen = (size_t)(slash - rel);

			if (plen >= sizeof parent_rel) {
				die_notice("umount(\"%s\"): %s", points[i], strerror(ENAMETOOLONG));
				t->result = 1;
				ok = false;
				continue;
			}
			memcpy(parent_rel, rel, plen);
			parent_rel[plen] = '\0';
			/* No symlink anywhere below /run/jai/<user>: what is unmounted is what mountinfo names. */
			parent = path_openat_dir(t->user_fd, parent_rel, O_PATH, 0);
			if (parent < 0) {
				if (errno == ENOENT)
					continue; /* went with an unmount above it */
				die_notice("umount(\"%s\"): %s", points[i], strerror(errno));
				t->result = 1;
				ok = false;
				continue;
			}
		}
		if (!teardown_unmount(t, parent, slash != NULL ? slash + 1 : rel, points[i]))
			ok = false;
		if (parent != t->user_fd && close(parent) < 0)
			die_errno("close(parent of %s)", points[i]);
	}
	free(points);
	free(info);
	return ok;
}

/* Every root-owned entry of /run/jai/<user> but the lock, without recursing: directories must be empty by now. After
 * a failed unmount, its mount point (EBUSY) and what holds it (ENOTEMPTY) stay without another notice. */
static void teardown_remove_entries(struct teardown *t, bool unmounted)
{
	DIR *d = teardown_opendir(t->user_fd, t->dir);
	struct dirent *e;

	while ((e = teardown_readdir(d, t->dir)) != NULL) {
		struct stat st;

		if (teardown_is_dot(e->d_name) || strcmp(e->d_name, ".lock") == 0)
			continue;
		if (fstatat(t->user_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			die_errno("fstatat(%s/%s)", t->dir, e->d_name);
		}
		if (st.st_uid != 0) {
			die_warn("%s/%s: owned by %u, not by root: left alone", t->dir, e->d_name, (unsigned)st.st_uid);
			continue;
		}
		if (unlinkat(t->user_fd, e->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == 0 || errno == ENOENT)
			continue;
		if (!unmounted && (errno == EBUSY || errno == ENOTEMPTY))
			continue;
		die_notice("remove(\"%s/%s\"): %s", t->dir, e->d_name, strerror(errno));
		t->result = 1;
	}
	teardown_closedir(d, t->dir);
}

/* The storage dir, opened as the user and owned by them; -1 when it does not exist or cannot be used (a notice
 * then, and result 1: its work dirs stay as they are). */
static int teardown_open_storage(struct teardown *t)
{
	const struct plan *p = t->p;
	struct stat st;
	int fd, saved;

	creds_enter_user(p);
	fd = path_open_dir(p->storage, O_RDONLY, 0);
	saved = errno;
	creds_leave_user();
	if (fd < 0) {
		if (saved != ENOENT) {
			die_notice("open(\"%s\") as %s: %s", p->storage, p->user, strerror(saved));
			t->result = 1;
		}
		return -1;
	}
	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s)", p->storage);
	if (st.st_uid != p->uid) {
		die_notice("%s: owned by %u should be owned by %u", p->storage, (unsigned)st.st_uid, (unsigned)p->uid);
		t->result = 1;
		if (close(fd) < 0)
			die_errno("close(%s)", p->storage);
		return -1;
	}
	return fd;
}

/* In one root-owned subdirectory of a work dir: entries that are not directories and either empty regular files
 * or not regular files go, each with a `deleted PATH` notice. */
static void teardown_clean_subdir(struct teardown *t, int sub, const char *display)
{
	DIR *d = teardown_opendir(sub, display);
	struct dirent *e;

	while ((e = teardown_readdir(d, display)) != NULL) {
		struct stat st;

		if (teardown_is_dot(e->d_name))
			continue;
		if (fstatat(sub, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				die_warn("fstatat(%s/%s): %s", display, e->d_name, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size != 0))
			continue;
		if (unlinkat(sub, e->d_name, 0) == 0) {
			die_notice("deleted %s/%s", display, e->d_name);
		} else if (errno != ENOENT) {
			die_notice("unlink(\"%s/%s\"): %s", display, e->d_name, strerror(errno));
			t->result = 1;
		}
	}
	teardown_closedir(d, display);
}

/* <storage>/<work_name>, an overlay work dir no longer in use (its overlay is unmounted). */
static void teardown_clean_work(struct teardown *t, int storage_fd, const char *work_name)
{
	const struct plan *p = t->p;
	char display[PATH_MAX + NAME_MAX + 2];
	char sub_display[PATH_MAX + 2 * NAME_MAX + 4];
	struct stat work_st;
	struct dirent *e;
	DIR *d;
	int work, saved;

	snprintf(display, sizeof display, "%s/%s", p->storage, work_name);
	creds_enter_user(p);
	work = path_open_one(storage_fd, work_name, O_RDONLY | O_DIRECTORY);
	saved = errno;
	creds_leave_user();
	if (work < 0) {
		if (saved != ENOENT)
			die_notice("open(\"%s\") as %s: %s", display, p->user, strerror(saved));
		return;
	}
	if (fstat(work, &work_st) < 0)
		die_errno("fstat(%s)", display);
	if (work_st.st_uid != p->uid) {
		die_notice("%s: owned by %u should be owned by %u", display, (unsigned)work_st.st_uid, (unsigned)p->uid);
		if (close(work) < 0)
			die_errno("close(%s)", display);
		return;
	}

	d = teardown_opendir(work, display);
	while ((e = teardown_readdir(d, display)) != NULL) {
		struct stat st, up;
		int sub;

		if (teardown_is_dot(e->d_name))
			continue;
		/* Not a symlink, a directory: anything else fails here and is skipped. */
		sub = path_open_one(work, e->d_name, O_RDONLY | O_DIRECTORY);
		if (sub < 0)
			continue;
		if (fstat(sub, &st) < 0)
			die_errno("fstat(%s/%s)", display, e->d_name);
		if (fstatat(sub, "..", &up, AT_SYMLINK_NOFOLLOW) < 0)
			die_errno("fstatat(%s/%s/..)", display, e->d_name);
		snprintf(sub_display, sizeof sub_display, "%s/%s", display, e->d_name);
		if (S_ISDIR(st.st_mode) && st.st_uid == 0 && up.st_dev == work_st.st_dev && up.st_ino == work_st.st_ino)
			teardown_clean_subdir(t, sub, sub_display);
		if (close(sub) < 0)
			die_errno("close(%s)", sub_display);
	}
	teardown_closedir(d, display);
	if (close(work) < 0)
		die_errno("close(%s)", display);
}

/* The work dir of every <J>.changes in the storage dir. */
static void teardown_clean_all_work(struct teardown *t)
{
	static const char suffix[] = ".changes";
	const size_t slen = sizeof suffix - 1;
	int storage = teardown_open_storage(t);
	struct dirent *e;
	DIR *d;

	if (storage < 0)
		return;
	d = teardown_opendir(storage, t->p->storage);
	while ((e = teardown_readdir(d, t->p->storage)) != NULL) {
		char work_name[NAME_MAX + 1];
		size_t len = strlen(e->d_name);

		if (len <= slen || strcmp(e->d_name + len - slen, suffix) != 0)
			continue;
		/* <J>.work is no longer than <J>.changes. */
		snprintf(work_name, sizeof work_name, "%.*s.work", (int)(len - slen), e->d_name);
		teardown_clean_work(t, storage, work_name);
	}
	teardown_closedir(d, t->p->storage);
	if (close(storage) < 0)
		die_errno("close(%s)", t->p->storage);
}

/* rmdir /run/jai/<user> by name in /run/jai (only root creates there); it may still hold something. */
static void teardown_remove_user_dir(struct teardown *t)
{
	if (unlinkat(t->jai_fd, t->p->user, AT_REMOVEDIR) == 0)
		return;
	if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST || errno == EBUSY)
		return;
	die_notice("rmdir(\"%s\"): %s", t->dir, strerror(errno));
	t->result = 1;
}

static void teardown_remove_lock(struct teardown *t)
{
	if (unlinkat(t->user_fd, ".lock", 0) < 0 && errno != ENOENT)
		die_errno("unlink(%s/.lock)", t->dir);
}

static void teardown_all(struct teardown *t)
{
	bool unmounted = teardown_unmount_all(t);

	teardown_remove_entries(t, unmounted);
	/* A work dir of a still mounted overlay is in use: only once every overlay is gone. */
	if (unmounted)
		teardown_clean_all_work(t);
	teardown_remove_lock(t);
	teardown_remove_user_dir(t);
}

/* casual: the jail's overlay, its mount point and its work dir's leftovers. */
static void teardown_one_casual(struct teardown *t)
{
	const struct plan *p = t->p;
	char name[PLAN_MAX_JAIL + 8];
	char display[PLAN_MAX_USER + PLAN_MAX_JAIL + 32];
	bool unmounted;
	int storage;

	snprintf(name, sizeof name, "%s.home", p->jail);
	snprintf(display, sizeof display, "%s/%s", t->dir, name);
	unmounted = teardown_unmount(t, t->user_fd, name, display);
	if (unlinkat(t->user_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		if (unmounted)
			die_notice("rmdir(\"%s\"): %s", display, strerror(errno));
		t->result = 1;
	}
	if (!unmounted)
		return;
	storage = teardown_open_storage(t);
	if (storage < 0)
		return;
	snprintf(name, sizeof name, "%s.work", p->jail);
	teardown_clean_work(t, storage, name);
	if (close(storage) < 0)
		die_errno("close(%s)", p->storage);
}

/* When nothing but the lock is left, the lock and /run/jai/<user> go too. */
static void teardown_remove_if_empty(struct teardown *t)
{
	DIR *d = teardown_opendir(t->user_fd, t->dir);
	struct dirent *e;
	bool only_lock = true;

	while (only_lock && (e = teardown_readdir(d, t->dir)) != NULL)
		if (!teardown_is_dot(e->d_name) && strcmp(e->d_name, ".lock") != 0)
			only_lock = false;
	teardown_closedir(d, t->dir);
	if (!only_lock)
		return;
	teardown_remove_lock(t);
	teardown_remove_user_dir(t);
}

static void teardown_unlink_copy(struct teardown *t, const char *name)
{
	if (unlinkat(t->user_fd, name, 0) < 0 && errno != ENOENT) {
		die_notice("unlink(\"%s/%s\"): %s", t->dir, name, strerror(errno));
		t->result = 1;
	}
}

static void teardown_one(struct teardown *t)
{
	switch (t->p->mode) {
	case PLAN_MODE_CASUAL:
		teardown_one_casual(t);
		break;
	case PLAN_MODE_STRICT:
		/* The shared passwd and group copies; running strict jails keep their bind mounts of them. */
		teardown_unlink_copy(t, "passwd");
		teardown_unlink_copy(t, "group");
		break;
	case PLAN_MODE_BARE:
		break;
	}
	/* The per-jail tmp, .run and .shm dirs stay, as upstream. */
	teardown_remove_if_empty(t);
}

void teardown_run(const struct plan *p)
{
	struct teardown t = { .p = p, .jai_fd = -1, .user_fd = -1, .result = 0 };
	int lock_fd = -1;
	int attempt;

	snprintf(t.dir, sizeof t.dir, "/run/jai/%s", p->user);
	/* Bounded: each retry means another teardown removed the lock in between. */
	for (attempt = 0; lock_fd < 0; attempt++) {
		if (attempt == 100)
			die("%s/.lock: removed 100 times while waiting for it", t.dir);
		t.user_fd = host_open_user_dir(p, &t.jai_fd);
		if (t.user_fd < 0)
			teardown_exit(p, 0); /* nothing to tear down */
		lock_fd = host_lock(t.user_fd, p);
		if (lock_fd >= 0)
			break;
		if (close(t.user_fd) < 0 || close(t.jai_fd) < 0)
			die_errno("close(%s)", t.dir);
	}
	if (p->jail == NULL)
		teardown_all(&t);
	else
		teardown_one(&t);
	/* The lock goes with the process. */
	teardown_exit(p, t.result);
}
