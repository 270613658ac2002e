/* changes.c — see changes.h.
 *
 * Why this is safe: the tree is the user's (the jail writes it through the overlay, and the user on the host), so
 * it is read with the user's credentials (creds_enter_user: nothing is revealed that the user could not read) and
 * only relative to fds: each entry is opened O_PATH from its parent's fd with openat2(O_NOFOLLOW,
 * RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV|RESOLVE_BENEATH) and fstat'ed (a symlink gives an fd of the link itself; a
 * mount point — a FUSE mount the user made, whose server could hang a stat — fails with EXDEV before anything is
 * asked of the mounted filesystem), and each directory is opened the same way with O_DIRECTORY and checked to be the
 * very inode the fstat saw, so neither a symlink nor a rename nor a mount point takes the walk out of the tree.
 * The work is bounded: depth CHANGES_MAX_DEPTH, CHANGES_MAX_VISITED entries, paths in a PATH_MAX buffer (longer
 * ones are counted, not named), CHANGES_MAX_LISTED paths kept; at most one warning per walk. */
#include "changes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "creds.h"
#include "die.h"
#include "fdio.h"

#define CHANGES_RECORD "changed "
/* A listed path fits a record with its prefix. */
#define CHANGES_PATH_MAX (FDIO_RECORD_MAX - (sizeof CHANGES_RECORD - 1))
/* The length of a path too long to name (it and everything below it are counted only). */
#define CHANGES_UNNAMED SIZE_MAX

struct changes_walk {
	struct timespec start;
	unsigned long visited;
	unsigned long count;
	bool incomplete; /* T: a cap was reached or something could not be read */
	bool warned;
	size_t nlisted;
	/* Last: not zeroed (84 KiB: a page fault per 4 KiB); each entry and the path are NUL-terminated when
	 * written. */
	char listed[CHANGES_MAX_LISTED][CHANGES_PATH_MAX + 1];
	char path[PATH_MAX];
};

static struct changes_walk changes_w;

/* changes_report zeroes the walk up to listed: listed and path must stay its last members. */
_Static_assert(offsetof(struct changes_walk, path) ==
		       offsetof(struct changes_walk, listed) + sizeof(((struct changes_walk *)0)->listed),
	       "path follows listed");
_Static_assert(offsetof(struct changes_walk, path) + sizeof(((struct changes_walk *)0)->path) +
			       _Alignof(struct changes_walk) >
		       sizeof(struct changes_walk),
	       "nothing but padding after path");

/* The first problem of a walk is reported (a hostile tree could have thousands); each makes N a lower bound. len:
 * of the path concerned, a prefix of w->path. */
static void changes_problem(struct changes_walk *w, const char *what, size_t len, int err)
{
	w->incomplete = true;
	if (w->warned)
		return;
	w->warned = true;
	if (len == CHANGES_UNNAMED)
		die_warn("%s(<a path longer than %zu bytes>): %s (the count is a lower bound)", what, sizeof w->path - 1,
			 strerror(err));
	else
		die_warn("%s(%.*s): %s (the count is a lower bound)", what, len == 0 ? 1 : (int)len,
			 len == 0 ? "." : w->path, strerror(err));
}

/* ctime ≥ start: seconds, then nanoseconds. */
static bool changes_is_new(const struct stat *st, const struct timespec *start)
{
	return st->st_ctim.tv_sec > start->tv_sec ||
	       (st->st_ctim.tv_sec == start->tv_sec && st->st_ctim.tv_nsec >= start->tv_nsec);
}

/* name in dir, never through a symlink nor across a mount (flags: O_PATH, or O_RDONLY|O_DIRECTORY). */
static int changes_open(int dir, const char *name, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = 0,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV | RESOLVE_BENEATH,
	};

	return (int)syscall(SYS_openat2, dir, name, &how, sizeof how);
}

static bool changes_walk_dir(struct changes_walk *w, int fd, size_t len, unsigned int depth);

/* One entry of the directory dir (whose path is w->path[0..len)). Returns false when the walk must stop. */
static bool changes_entry(struct changes_walk *w, int dir, const char *name, size_t len, unsigned int depth)
{
	size_t nlen = strlen(name);
	size_t sub = CHANGES_UNNAMED;
	struct stat st, opened;
	int fd, r;

	if (len != CHANGES_UNNAMED && len + (len > 0) + nlen < sizeof w->path) {
		sub = len + (len > 0) + nlen;
		if (len > 0)
			w->path[len] = '/';
		memcpy(w->path + len + (len > 0), name, nlen + 1);
	}
	fd = changes_open(dir, name, O_PATH);
	if (fd < 0) {
		/* Gone since readdir: nothing to count. A mount point: not the upper dir's. */
		if (errno == EXDEV)
			changes_problem(w, "not walking into a mount point", sub, errno);
		else if (errno != ENOENT)
			changes_problem(w, "open", sub, errno);
		return true;
	}
	r = fstat(fd, &st);
	if (r < 0)
		changes_problem(w, "fstat", sub, errno);
	if (close(fd) < 0)
		changes_problem(w, "close", sub, errno);
	if (r < 0)
		return true;
	if (changes_is_new(&st, &w->start)) {
		w->count++;
		if (sub != CHANGES_UNNAMED && sub <= CHANGES_PATH_MAX && w->nlisted < CHANGES_MAX_LISTED)
			memcpy(w->listed[w->nlisted++], w->path, sub + 1);
	}
	if (!S_ISDIR(st.st_mode))
		return true;
	if (depth >= CHANGES_MAX_DEPTH) {
		w->incomplete = true;
		return true;
	}
	fd = changes_open(dir, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		if (errno != ENOENT)
			changes_problem(w, "open", sub, errno);
		return true;
	}
	if (fstat(fd, &opened) < 0)
		changes_problem(w, "fstat", sub, errno);
	else if (opened.st_dev != st.st_dev || opened.st_ino != st.st_ino)
		changes_problem(w, "replaced while walking", sub, ESTALE);
	else
		return changes_walk_dir(w, fd, sub, depth + 1);
	if (close(fd) < 0)
		changes_problem(w, "close", sub, errno);
	return true;
}

/* The entries of the directory open on fd (consumed), at depth depth. Returns false when the walk must stop. */
static bool changes_walk_dir(struct changes_walk *w, int fd, size_t len, unsigned int depth)
{
	DIR *d = fdopendir(fd);
	bool go_on = true;

	if (d == NULL) {
		changes_problem(w, "fdopendir", len, errno);
		if (close(fd) < 0)
			changes_problem(w, "close", len, errno);
		return true;
	}
	for (;;) {
		struct dirent *e;

		errno = 0;
		e = readdir(d);
		if (e == NULL) {
			if (errno != 0)
				changes_problem(w, "readdir", len, errno);
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (w->visited >= CHANGES_MAX_VISITED) {
			w->incomplete = true;
			go_on = false;
			break;
		}
		w->visited++;
		if (!changes_entry(w, dirfd(d), e->d_name, len, depth)) {
			go_on = false;
			break;
		}
	}
	if (closedir(d) < 0)
		changes_problem(w, "closedir", len, errno);
	return go_on;
}

void changes_report(const struct plan *p, int changes_fd, const struct timespec *start)
{
	struct changes_walk *w = &changes_w;
	struct stat st;
	size_t i;
	int fd;

	memset(w, 0, offsetof(struct changes_walk, listed));
	w->start = *start;
	creds_enter_user(p);
	/* A fresh open of the held directory as the user (its own offset; the user's permissions), owner checked as at
	 * setup. */
	fd = openat(changes_fd, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		die_warn("open(%s/%s.changes) as %s: %s", p->storage, p->jail, p->user, strerror(errno));
	} else if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != p->uid) {
		die_warn("%s/%s.changes: not a directory owned by %u", p->storage, p->jail, (unsigned)p->uid);
		if (close(fd) < 0)
			die_warn("close(%s/%s.changes): %s", p->storage, p->jail, strerror(errno));
		fd = -1;
	}
	if (fd >= 0) {
		w->path[0] = '\0';
		(void)changes_walk_dir(w, fd, 0, 1);
	}
	creds_leave_user();
	if (close(changes_fd) < 0)
		die_warn("close(%s/%s.changes): %s", p->storage, p->jail, strerror(errno));

	/* Best effort: the daemon may be gone; the exit status is the program's either way. */
	if (fd < 0) {
		(void)fdio_send_record(p->status_fd, "changes 0 1");
		return;
	}
	if (fdio_send_record(p->status_fd, "changes %lu %d", w->count, w->incomplete ? 1 : 0) < 0)
		return;
	for (i = 0; i < w->nlisted; i++)
		if (fdio_send_record(p->status_fd, CHANGES_RECORD "%s", w->listed[i]) < 0)
			return;
}
