/* errors.c — Node-style errors: code, errno (negative), syscall, path. */
#include "errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#define MSG_MAX 512

const char *err_name(int err, char *buf, size_t len)
{
	/* libuv's names are the ones Node uses; fall back to glibc for errnos
	 * libuv does not know (it would say "Unknown system error N"). */
	uv_err_name_r(uv_translate_sys_error(err), buf, len);
	if (strncmp(buf, "Unknown", 7) != 0)
		return buf;
	const char *name = strerrorname_np(err);
	if (name != NULL)
		snprintf(buf, len, "%s", name);
	return buf;
}

/* Build Error(message) with the four Node properties. */
static napi_value make_native(napi_env env, const char *code, int errno_value, const char *syscall,
			       const char *message, const char *path)
{
	napi_value code_v, msg_v, error, errno_v, syscall_v;
	NAPI_TRY(env, napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v));
	NAPI_TRY(env, napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg_v));
	NAPI_TRY(env, napi_create_error(env, code_v, msg_v, &error));
	NAPI_TRY(env, napi_create_int32(env, errno_value, &errno_v));
	NAPI_TRY(env, napi_set_named_property(env, error, "errno", errno_v));
	NAPI_TRY(env, napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_v));
	NAPI_TRY(env, napi_set_named_property(env, error, "syscall", syscall_v));
	if (path != NULL) {
		napi_value path_v;
		NAPI_TRY(env, napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &path_v));
		NAPI_TRY(env, napi_set_named_property(env, error, "path", path_v));
	}
	return error;
}

static napi_value throw_native(napi_env env, const char *code, int errno_value, const char *syscall,
			       const char *message, const char *path)
{
	napi_value error = make_native(env, code, errno_value, syscall, message, path);
	if (error != NULL)
		napi_throw(env, error);
	return NULL;
}

napi_value err_make_errno(napi_env env, const char *syscall, int err, const char *path)
{
	char name[64], message[MSG_MAX];
	err_name(err, name, sizeof name);
	if (path != NULL)
		snprintf(message, sizeof message, "%s %s (%s)", syscall, name, path);
	else
		snprintf(message, sizeof message, "%s %s", syscall, name);
	return make_native(env, name, -err, syscall, message, path);
}

napi_value err_errno(napi_env env, const char *syscall, int err, const char *path)
{
	napi_value error = err_make_errno(env, syscall, err, path);
	if (error != NULL)
		napi_throw(env, error);
	return NULL;
}

napi_value err_code(napi_env env, const char *code, const char *syscall, const char *fmt, ...)
{
	char detail[MSG_MAX], message[MSG_MAX + 128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	snprintf(message, sizeof message, "%s %s (%s)", syscall, code, detail);
	return throw_native(env, code, 0, syscall, message, NULL);
}

napi_value err_type(napi_env env, const char *code, const char *fmt, ...)
{
	char message[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	napi_throw_type_error(env, code, message);
	return NULL;
}

napi_value err_range(napi_env env, const char *fmt, ...)
{
	char message[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
	return NULL;
}

napi_value err_napi(napi_env env, const char *call)
{
	/* Read the error info first: every napi call, even the pending check,
	 * overwrites it. */
	const napi_extended_error_info *info = NULL;
	char what[256] = "unknown failure";
	if (napi_get_last_error_info(env, &info) == napi_ok && info != NULL && info->error_message != NULL)
		snprintf(what, sizeof what, "%s", info->error_message);
	bool pending = false;
	if (napi_is_exception_pending(env, &pending) != napi_ok || pending)
		return NULL;
	char message[MSG_MAX];
	snprintf(message, sizeof message, "jai addon: %s failed: %s", call, what);
	napi_throw_error(env, "EJAI_NAPI", message);
	return NULL;
}

napi_value js_undefined(napi_env env)
{
	napi_value v;
	NAPI_TRY(env, napi_get_undefined(env, &v));
	return v;
}
