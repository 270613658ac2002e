/* seccomp.h — the jailed program's syscall filter.
 *
 * Installed by PID 2 after no_new_privs, just before exec; inherited by everything the program starts. It always
 * refuses TIOCSTI and TIOCLINUX (terminal input injection and console control: checklist #18), and, unless the plan
 * says `userns allow`, creating user namespaces (clone/unshare with CLONE_NEWUSER: EPERM; clone3, whose flags a
 * filter cannot read, ENOSYS so that libc falls back to clone): without a user namespace no other namespace can be
 * created either, so nested sandboxes and the kernel's userns attack surface stay closed (#29). With `keyring deny`
 * the kernel's key syscalls (add_key, request_key, keyctl) fail with EPERM: the user keyring a casual or bare jail
 * shares with the user's own sessions (Kerberos KEYRING: caches, #28) is out of reach. Syscalls of a foreign
 * ABI (x32, or an architecture this helper was not built for) get ENOSYS; the compat ABI (i386 on x86_64, arm on
 * arm64) is filtered with its own numbers. */
#ifndef JAI_SECCOMP_H
#define JAI_SECCOMP_H

#include "plan.h"

void seccomp_install(const struct plan *p);

#endif
