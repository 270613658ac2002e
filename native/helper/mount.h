/* mount.h — thin, checked wrappers over the fd-based mount API (fsopen/fsconfig/fsmount, open_tree, move_mount,
 * mount_setattr), lazy detaching and the teardown's unmounts. Every function dies on failure, naming the syscall and
 * the object, unless it says it returns an error. */
#ifndef JAI_MOUNT_H
#define JAI_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

struct mount_opt {
	const char *key;
	const char *value; /* NULL: a flag (FSCONFIG_SET_FLAG) */
};

/* A new, detached filesystem instance: fsopen(fstype) + options + FSCONFIG_CMD_CREATE + fsmount(attrs).
 * Returns the mount fd (O_CLOEXEC). `what` names it in errors. */
int mount_new_fs(const char *fstype, const struct mount_opt *opts, size_t nopts, unsigned int attrs, const char *what);
/* The overlay: lower, upper and work given by fd. */
int mount_new_overlay(const char *source, int lower_fd, int upper_fd, int work_fd, unsigned int attrs);
/* A detached, non-recursive clone of the directory at dirfd/path (path "" for dirfd itself), never following a
 * final symlink. */
int mount_clone(int dirfd, const char *path, const char *what);
/* mount_setattr on the mount at fd: set and clear attributes, propagation private, non-recursive. */
void mount_set_attrs(int fd, unsigned int set, unsigned int clr, const char *what);
/* The same plus MOUNT_ATTR_IDMAP with the user namespace userns_fd (strict mode). The kernel takes it only on a
 * detached mount (a clone not yet moved) of a filesystem that supports id-mapped mounts; EINVAL says which. */
void mount_set_attrs_idmap(int fd, unsigned int set, int userns_fd, const char *what);
/* move_mount(from_fd → to_fd), both by fd. */
void mount_move(int from_fd, int to_fd, const char *what);
/* Whether fd is the root of a mount (statx STATX_ATTR_MOUNT_ROOT). */
bool mount_is_root(int fd, const char *what);
/* The filesystem magic of fd (fstatfs f_type). */
long mount_fs_type(int fd, const char *what);
/* umount2(MNT_DETACH|UMOUNT_NOFOLLOW) until nothing is mounted on path (EINVAL) or it does not exist. */
void mount_detach_all(const char *path);
/* Detaches every mount whose mount point is prefix or below it, deepest first (from /proc/self/mountinfo). */
void mount_detach_under(const char *prefix);
/* The mount points below prefix (and prefix itself when include_prefix) in this mount namespace, from
 * /proc/self/mountinfo with its \ooo escapes undone, deepest first (a stacked point once per mount). The strings
 * live in *storage: free() the array and *storage. */
char **mount_points_under(const char *prefix, bool include_prefix, size_t *n, char **storage);
/* A non-lazy umount2(UMOUNT_NOFOLLOW) of the mount on name inside the directory parent_fd (resolved from that fd,
 * so no symlink of an earlier component is followed). Returns 0, or -1 with errno (EBUSY while in use; EINVAL when
 * nothing is mounted there). The cwd is "/" afterwards. */
int mount_unmount_at(int parent_fd, const char *name);

#endif
