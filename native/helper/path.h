/* path.h — opening directories by path without ever following a symlink, with the caller's credentials (root, or
 * the user inside a creds_enter_user scope). */
#ifndef JAI_PATH_H
#define JAI_PATH_H

#include <sys/types.h>

/* Opens the directory `rel` (components separated by '/', none empty, "." or "..") below dirfd one component at a
 * time with openat2(RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS): a symlink anywhere fails with ELOOP. Intermediate
 * components are opened O_PATH, the last one with final_flags (O_PATH or O_RDONLY; O_DIRECTORY|O_CLOEXEC are
 * added). When create_mode is not 0, missing components are created with mkdirat(create_mode). Returns the fd, or
 * -1 with errno. */
int path_openat_dir(int dirfd, const char *rel, int final_flags, mode_t create_mode);
/* The same from "/" for an absolute path ("/" itself included). */
int path_open_dir(const char *abs, int final_flags, mode_t create_mode);
/* Opens one component (no '/') below dirfd, never following a symlink. Returns the fd or -1 with errno. */
int path_open_one(int dirfd, const char *name, int flags);

#endif
