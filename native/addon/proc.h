/* proc.h — process-level odds and ends: close(2), the umask. */
#ifndef JAI_ADDON_PROC_H
#define JAI_ADDON_PROC_H

#include <node_api.h>

napi_value proc_close_fd(napi_env env, napi_callback_info info);
napi_value proc_umask(napi_env env, napi_callback_info info);

#endif
