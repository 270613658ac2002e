/* proc.h — process-level odds and ends: close(2), pipe(2), the umask. */
#ifndef JAI_ADDON_PROC_H
#define JAI_ADDON_PROC_H

#include <node_api.h>

napi_value proc_close_fd(napi_env env, napi_callback_info info);
/* pipe(): [read end, write end], both O_CLOEXEC and blocking. */
napi_value proc_pipe(napi_env env, napi_callback_info info);
napi_value proc_umask(napi_env env, napi_callback_info info);
/* exitNow(status): _exit(2), at once: no atexit handlers or destructors, Node's worker threads not joined. */
napi_value proc_exit_now(napi_env env, napi_callback_info info);
/* stopSelf(signo): stops the process with signo (SIGSTOP when its process group is orphaned); returns the signal
 * used, once continued. */
napi_value proc_stop_self(napi_env env, napi_callback_info info);

#endif
