/* args.h — argument validation for the bindings. Each returns false with a
 * TypeError/RangeError pending when the value is unusable. */
#ifndef JAI_ADDON_ARGS_H
#define JAI_ADDON_ARGS_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* napi_get_cb_info for exactly `n` arguments (missing ones are undefined). */
bool arg_get(napi_env env, napi_callback_info info, size_t n, napi_value *argv, napi_value *this_arg);

/* An integral number in [min, max]. */
bool arg_int(napi_env env, napi_value v, const char *name, int64_t min, int64_t max, int64_t *out);

/* A file descriptor: an integer in [0, INT_MAX]. */
bool arg_fd(napi_env env, napi_value v, const char *name, int *out);

/* A string without NUL bytes whose UTF-8 form is 1..cap-1 bytes; written
 * NUL-terminated to buf. */
bool arg_string(napi_env env, napi_value v, const char *name, char *buf, size_t cap);

/* A Uint8Array (Buffer included) of at most max bytes; data points into it. */
bool arg_bytes(napi_env env, napi_value v, const char *name, size_t max, const uint8_t **data, size_t *len);

/* An array of at most cap file descriptors. */
bool arg_fd_list(napi_env env, napi_value v, const char *name, int *fds, size_t cap, size_t *count);

/* A function. */
bool arg_function(napi_env env, napi_value v, const char *name);

#endif
