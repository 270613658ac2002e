/* path.c — see path.h.
 *
 * Why this is safe: each component is resolved by the kernel relative to the fd of its already-opened parent with
 * symlinks refused, so a concurrent rename or symlink swap of any component makes the walk fail instead of
 * escaping; permissions are those of the caller's fsuid/fsgid (the user for user-controlled trees). */
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "plan.h"

int path_open_one(int dirfd, const char *name, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC | O_NOFOLLOW),
		.mode = 0,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};

	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
}

int path_openat_dir(int dirfd, const char *rel, int final_flags, mode_t create_mode)
{
	char buf[PLAN_MAX_PATH + 1];
	size_t len = strlen(rel);
	char *comp, *slash;
	int fd = -1;
	int parent = dirfd;

	if (len == 0 || len > PLAN_MAX_PATH) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, rel, len + 1);
	for (comp = buf; comp != NULL; comp = slash) {
		bool last;
		int flags;

		slash = strchr(comp, '/');
		if (slash != NULL)
			*slash++ = '\0';
		last = slash == NULL;
		if (comp[0] == '\0' || strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			errno = EINVAL;
			goto fail;
		}
		flags = (last ? final_flags : O_PATH) | O_DIRECTORY;
		fd = path_open_one(parent, comp, flags);
		if (fd < 0 && errno == ENOENT && create_mode != 0) {
			if (mkdirat(parent, comp, create_mode) < 0 && errno != EEXIST)
				goto fail;
			fd = path_open_one(parent, comp, flags);
		}
		if (fd < 0)
			goto fail;
		if (parent != dirfd)
			close(parent);
		parent = fd;
	}
	return fd;
fail:
	if (parent != dirfd) {
		int saved = errno;

		close(parent);
		errno = saved;
	}
	return -1;
}

int path_open_dir(const char *abs, int final_flags, mode_t create_mode)
{
	int root, fd, saved;

	if (abs[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	if (abs[1] == '\0')
		return open("/", final_flags | O_DIRECTORY | O_CLOEXEC);
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	fd = path_openat_dir(root, abs + 1, final_flags, create_mode);
	saved = errno;
	close(root);
	errno = saved;
	return fd;
}
