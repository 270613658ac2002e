/* errors.h — Node-style errors thrown from the addon. */
#ifndef JAI_ADDON_ERRORS_H
#define JAI_ADDON_ERRORS_H

#include <node_api.h>

/* Every function here leaves an exception pending and returns NULL, so a
 * binding can end with `return err_…(…);`. */

/* Error{code: 'ENOENT', errno: -2, syscall, path?}, message
 * "connect ENOENT (/run/jai/jaid.sock)". `path` may be NULL. */
napi_value err_errno(napi_env env, const char *syscall, int err, const char *path);

/* The same Error, returned instead of thrown (NULL, exception pending, if it
 * cannot be built): for errors handed to a callback. */
napi_value err_make_errno(napi_env env, const char *syscall, int err, const char *path);

/* Same shape for failures that have no errno (code 'EJAI_…', errno 0). */
napi_value err_code(napi_env env, const char *code, const char *syscall, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* TypeError / RangeError with a Node-style code (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE…). */
napi_value err_type(napi_env env, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
napi_value err_range(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A napi_* call failed: keep the pending exception if there is one, otherwise
 * throw an Error naming the call. */
napi_value err_napi(napi_env env, const char *call);

/* `errno` name for a positive errno value ("ENOENT"), written to buf. */
const char *err_name(int err, char *buf, size_t len);

/* `undefined`, what a binding without a result returns (NULL, exception pending, if even that fails). */
napi_value js_undefined(napi_env env);

/* Evaluate a napi call; on failure throw (err_napi) and return NULL from the
 * enclosing function. */
#define NAPI_TRY(env, call)                           \
	do {                                          \
		if ((call) != napi_ok)                \
			return err_napi((env), #call); \
	} while (0)

#endif
