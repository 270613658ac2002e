/* spawn.h — a child started without copying this process (clone CLONE_VM|CLONE_VFORK, exec of an fd), its pidfd,
 * and the sealed memfd that carries a plan to it. */
#ifndef JAI_ADDON_SPAWN_H
#define JAI_ADDON_SPAWN_H

#include <node_api.h>

/* Most fds a child gets (its fds 0..n-1). */
#define SPAWN_MAX_FDS 256
#define SPAWN_MAX_PATH_BYTES 4096
/* Largest memfd sealedMemfd makes (the helper refuses a plan over 1 MiB itself). */
#define SPAWN_MAX_MEMFD_BYTES (16u * 1024u * 1024u)

/* spawn(execFd, argv, fds): {pid, pidfd}. */
napi_value spawn_spawn(napi_env env, napi_callback_info info);
/* openExecutable(path): an O_RDONLY|O_CLOEXEC fd to spawn. */
napi_value spawn_open_executable(napi_env env, napi_callback_info info);
/* pidfdWait(pidfd): null while running, else {code, signal} (the child is reaped). */
napi_value spawn_pidfd_wait(napi_env env, napi_callback_info info);
/* pidfdSignal(pidfd, signo): false when the child has already exited. */
napi_value spawn_pidfd_signal(napi_env env, napi_callback_info info);
/* sealedMemfd(data): a CLOEXEC memfd holding data at offset 0, sealed against any change. */
napi_value spawn_sealed_memfd(napi_env env, napi_callback_info info);

#endif
