/* watch.h — fd readiness through uv_poll on Node's own loop. */
#ifndef JAI_ADDON_WATCH_H
#define JAI_ADDON_WATCH_H

#include <node_api.h>
#include <stdbool.h>

/* Define the Watcher class and export `watch(fd, callback)`. */
bool watch_init(napi_env env, napi_value exports);

#endif
