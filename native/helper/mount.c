/* mount.c — see mount.h. */
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "die.h"

/* The fs context's own message, when the kernel left one (read(fsfd) gives "e msg", "w msg" or "i msg"). */
static const char *mount_fs_log(int fsfd, char *buf, size_t len)
{
	ssize_t n = read(fsfd, buf, len - 1);

	if (n <= 2)
		return "";
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

static _Noreturn void mount_die_fs(int fsfd, const char *call, const char *what)
{
	char log[512];
	int saved = errno;
	const char *msg = mount_fs_log(fsfd, log, sizeof log);

	errno = saved;
	if (msg[0] != '\0')
		die("%s (%s): %s [%s]", call, what, strerror(saved), msg);
	die_errno("%s (%s)", call, what);
}

static int mount_finish(int fsfd, unsigned int attrs, const char *what)
{
	int mnt;

	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		mount_die_fs(fsfd, "fsconfig(FSCONFIG_CMD_CREATE)", what);
	mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0)
		mount_die_fs(fsfd, "fsmount", what);
	if (close(fsfd) < 0)
		die_errno("close(fs context of %s)", what);
	return mnt;
}

int mount_new_fs(const char *fstype, const struct mount_opt *opts, size_t nopts, unsigned int attrs, const char *what)
{
	int fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
	size_t i;

	if (fsfd < 0)
		die_errno("fsopen(%s) (%s)", fstype, what);
	for (i = 0; i < nopts; i++) {
		int r = opts[i].value == NULL
				? fsconfig(fsfd, FSCONFIG_SET_FLAG, opts[i].key, NULL, 0)
				: fsconfig(fsfd, FSCONFIG_SET_STRING, opts[i].key, opts[i].value, 0);

		if (r < 0)
			mount_die_fs(fsfd, opts[i].key, what);
	}
	return mount_finish(fsfd, attrs, what);
}

int mount_new_overlay(const char *source, int lower_fd, int upper_fd, int work_fd, unsigned int attrs)
{
	int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);

	if (fsfd < 0)
		die_errno("fsopen(overlay) (%s)", source);
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		mount_die_fs(fsfd, "fsconfig(source)", source);
	if (fsconfig(fsfd, FSCONFIG_SET_FD, "lowerdir+", NULL, lower_fd) < 0)
		mount_die_fs(fsfd, "fsconfig(lowerdir+)", source);
	if (fsconfig(fsfd, FSCONFIG_SET_FD, "upperdir", NULL, upper_fd) < 0)
		mount_die_fs(fsfd, "fsconfig(upperdir)", source);
	if (fsconfig(fsfd, FSCONFIG_SET_FD, "workdir", NULL, work_fd) < 0)
		mount_die_fs(fsfd, "fsconfig(workdir)", source);
	return mount_finish(fsfd, attrs, source);
}

int mount_clone(int dirfd, const char *path, const char *what)
{
	unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW;
	int fd;

	if (path[0] == '\0')
		flags |= AT_EMPTY_PATH;
	fd = open_tree(dirfd, path, flags);
	if (fd < 0)
		die_errno("open_tree(OPEN_TREE_CLONE) (%s)", what);
	return fd;
}

void mount_set_attrs(int fd, unsigned int set, unsigned int clr, const char *what)
{
	struct mount_attr attr = {
		.attr_set = set,
		.attr_clr = clr,
		.propagation = MS_PRIVATE,
		.userns_fd = 0,
	};

	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
		die_errno("mount_setattr (%s)", what);
}

void mount_set_attrs_idmap(int fd, unsigned int set, int userns_fd, const char *what)
{
	struct mount_attr attr = {
		.attr_set = set | MOUNT_ATTR_IDMAP,
		.attr_clr = 0,
		.propagation = MS_PRIVATE,
		.userns_fd = (__u64)userns_fd,
	};

	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0)
		return;
	if (errno == EINVAL)
		die_errno("mount_setattr(MOUNT_ATTR_IDMAP) (%s: its filesystem may not support id-mapped mounts)", what);
	die_errno("mount_setattr(MOUNT_ATTR_IDMAP) (%s)", what);
}

void mount_move(int from_fd, int to_fd, const char *what)
{
	if (move_mount(from_fd, "", to_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die_errno("move_mount (%s)", what);
}

bool mount_is_root(int fd, const char *what)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_TYPE, &stx) < 0)
		die_errno("statx (%s)", what);
	if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		die("statx (%s): the kernel does not report STATX_ATTR_MOUNT_ROOT", what);
	return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

long mount_fs_type(int fd, const char *what)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		die_errno("fstatfs (%s)", what);
	return (long)sfs.f_type;
}

void mount_detach_all(const char *path)
{
	int i;

	/* Bounded: each round removes the topmost mount of a finite stack. */
	for (i = 0; i < 1024; i++) {
		if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			continue;
		if (errno == EINVAL || errno == ENOENT)
			return;
		die_errno("umount2(%s, MNT_DETACH)", path);
	}
	die("umount2(%s): more than 1024 stacked mounts", path);
}

/* Reads all of /proc/self/mountinfo (no fixed size: it grows with the number of mounts). */
static char *mount_read_mountinfo(size_t *out_len)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);

	if (buf == NULL)
		die("malloc(%zu) (mountinfo)", cap);
	if (fd < 0)
		die_errno("open(/proc/self/mountinfo)");
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *bigger;

			if (cap >= 256u * 1024 * 1024)
				die("/proc/self/mountinfo is larger than 256 MiB");
			cap *= 2;
			bigger = realloc(buf, cap);
			if (bigger == NULL)
				die("realloc(%zu) (mountinfo)", cap);
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read(/proc/self/mountinfo)");
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (close(fd) < 0)
		die_errno("close(/proc/self/mountinfo)");
	buf[len] = '\0';
	*out_len = len;
	return buf;
}

/* In place: mountinfo escapes space, tab, newline and backslash as \ooo. */
static void mount_unescape(char *s)
{
	char *o = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*o++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

static int mount_cmp_deepest_first(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return (la < lb) - (la > lb);
}

char **mount_points_under(const char *prefix, bool include_prefix, size_t *out_n, char **storage)
{
	size_t len, n = 0, cap = 16, plen = strlen(prefix);
	char *info = mount_read_mountinfo(&len);
	char **points = malloc(cap * sizeof *points);
	char *line, *next;

	if (points == NULL)
		die("malloc (mount points)");
	for (line = info; line != NULL && *line != '\0'; line = next) {
		char *field = line, *end;
		int f;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		/* Fields: id parent major:minor root mount-point ... */
		for (f = 0; f < 4 && field != NULL; f++) {
			field = strchr(field, ' ');
			if (field != NULL)
				field++;
		}
		if (field == NULL)
			die("/proc/self/mountinfo: malformed line");
		end = strchr(field, ' ');
		if (end != NULL)
			*end = '\0';
		mount_unescape(field);
		if (strncmp(field, prefix, plen) != 0)
			continue;
		if (!(field[plen] == '/' || (include_prefix && field[plen] == '\0')))
			continue;
		if (n == cap) {
			char **bigger;

			cap *= 2;
			bigger = realloc(points, cap * sizeof *points);
			if (bigger == NULL)
				die("realloc (mount points)");
			points = bigger;
		}
		points[n++] = field;
	}
	/* A child's mount point is longer than its parent's: longest first lists children before parents. */
	qsort(points, n, sizeof *points, mount_cmp_deepest_first);
	*out_n = n;
	*storage = info;
	return points;
}

void mount_detach_under(const char *prefix)
{
	size_t n, i;
	char *info;
	char **points = mount_points_under(prefix, true, &n, &info);

	for (i = 0; i < n; i++)
		mount_detach_all(points[i]);
	free(points);
	free(info);
}

int mount_unmount_at(int parent_fd, const char *name)
{
	int r, saved;

	/* umount2 takes a path: resolve it from the parent's fd (cwd), never following the last component, then leave
	 * the parent again so that the cwd does not keep its mount busy. */
	if (fchdir(parent_fd) < 0)
		return -1;
	r = umount2(name, UMOUNT_NOFOLLOW);
	saved = errno;
	if (chdir("/") < 0)
		die_errno("chdir(/)");
	errno = saved;
	return r;
}
