/* relay.h — the PTY output relay thread (master → the user's terminal). */
#ifndef JAI_ADDON_RELAY_H
#define JAI_ADDON_RELAY_H

#include <node_api.h>

napi_value relay_start(napi_env env, napi_callback_info info);
napi_value relay_pause(napi_env env, napi_callback_info info);
napi_value relay_resume(napi_env env, napi_callback_info info);
napi_value relay_stop(napi_env env, napi_callback_info info);

#endif
