/* idmap.h — strict mode's id mapping: a throw-away user namespace whose only use is MOUNT_ATTR_IDMAP. */
#ifndef JAI_IDMAP_H
#define JAI_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* The text of a uid_map/gid_map ("inside outside count" lines) that maps inside id `user` to outside id `sandbox`,
 * leaves inside `sandbox` and outside `user` unmapped, and maps every other id in [0, 2^32-1) to itself:
 * "user sandbox 1" plus at most three identity ranges. Through a mount id-mapped with it, on-disk `user` shows as
 * `sandbox`, `sandbox` creates files as `user` on disk, on-disk `sandbox` shows as the overflow id and `user`
 * itself can create nothing. Both ids are neither 0 nor 2^32-1 and differ (plan_parse). Returns the length written
 * (< size). No syscalls. */
size_t idmap_format(char *buf, size_t size, uint32_t user, uint32_t sandbox);

/* A user namespace with those maps for uids (uid ⇄ sandbox_uid) and gids (gid ⇄ sandbox_gid): a clone3
 * (CLONE_NEWUSER) child that only waits on a pipe, whose uid_map and gid_map the helper (root in the initial user
 * namespace) writes; /proc/PID/ns/user is opened, then the child is killed and reaped. Returns that fd (O_CLOEXEC):
 * through a mount id-mapped with it, files the user owns on disk show as the sandbox account's, files the sandbox
 * account creates land on disk as the user's, and files on disk owned by the sandbox account show as the overflow
 * id. No process and no other fd is left behind. */
int idmap_userns(const struct plan *plan);

#endif
