/* args.c — validate every value that crosses from JS before any syscall sees it. */
#include "args.h"

#include <limits.h>
#include <string.h>

#include "errors.h"

static const char *type_name(napi_valuetype t)
{
	switch (t) {
	case napi_undefined: return "undefined";
	case napi_null: return "null";
	case napi_boolean: return "boolean";
	case napi_number: return "number";
	case napi_string: return "string";
	case napi_symbol: return "symbol";
	case napi_object: return "object";
	case napi_function: return "function";
	case napi_external: return "external";
	case napi_bigint: return "bigint";
	}
	return "unknown";
}

/* Check the JS type of v; throw ERR_INVALID_ARG_TYPE otherwise. */
static bool expect_type(napi_env env, napi_value v, const char *name, napi_valuetype want)
{
	napi_valuetype t;
	if (napi_typeof(env, v, &t) != napi_ok) {
		err_napi(env, "napi_typeof");
		return false;
	}
	if (t != want) {
		err_type(env, "ERR_INVALID_ARG_TYPE", "The \"%s\" argument must be of type %s. Received type %s",
			 name, type_name(want), type_name(t));
		return false;
	}
	return true;
}

bool arg_get(napi_env env, napi_callback_info info, size_t n, napi_value *argv, napi_value *this_arg)
{
	size_t argc = n;
	if (napi_get_cb_info(env, info, &argc, argv, this_arg, NULL) != napi_ok) {
		err_napi(env, "napi_get_cb_info");
		return false;
	}
	return true;
}

bool arg_int(napi_env env, napi_value v, const char *name, int64_t min, int64_t max, int64_t *out)
{
	if (!expect_type(env, v, name, napi_number))
		return false;
	double d;
	if (napi_get_value_double(env, v, &d) != napi_ok) {
		err_napi(env, "napi_get_value_double");
		return false;
	}
	/* NaN fails both comparisons; the range check comes before the cast so
	 * the cast is defined. */
	if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d) {
		err_range(env, "The value of \"%s\" is out of range. It must be an integer >= %lld and <= %lld. Received %g",
			  name, (long long)min, (long long)max, d);
		return false;
	}
	*out = (int64_t)d;
	return true;
}

bool arg_fd(napi_env env, napi_value v, const char *name, int *out)
{
	int64_t fd;
	if (!arg_int(env, v, name, 0, INT_MAX, &fd))
		return false;
	*out = (int)fd;
	return true;
}

bool arg_string(napi_env env, napi_value v, const char *name, char *buf, size_t cap)
{
	if (!expect_type(env, v, name, napi_string))
		return false;
	size_t len;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
		err_napi(env, "napi_get_value_string_utf8");
		return false;
	}
	if (len == 0 || len >= cap) {
		err_range(env, "The \"%s\" argument must be 1 to %zu bytes long. Received %zu bytes", name, cap - 1,
			  len);
		return false;
	}
	if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) {
		err_napi(env, "napi_get_value_string_utf8");
		return false;
	}
	if (strlen(buf) != len) {
		err_type(env, "ERR_INVALID_ARG_VALUE", "The \"%s\" argument must not contain NUL bytes", name);
		return false;
	}
	return true;
}

bool arg_bytes(napi_env env, napi_value v, const char *name, size_t max, const uint8_t **data, size_t *len)
{
	bool is_typed = false;
	if (napi_is_typedarray(env, v, &is_typed) != napi_ok) {
		err_napi(env, "napi_is_typedarray");
		return false;
	}
	napi_typedarray_type type = napi_int8_array;
	size_t length = 0;
	void *ptr = NULL;
	if (is_typed && napi_get_typedarray_info(env, v, &type, &length, &ptr, NULL, NULL) != napi_ok) {
		err_napi(env, "napi_get_typedarray_info");
		return false;
	}
	if (!is_typed || type != napi_uint8_array) {
		err_type(env, "ERR_INVALID_ARG_TYPE", "The \"%s\" argument must be a Uint8Array or Buffer", name);
		return false;
	}
	if (length > max) {
		err_range(env, "The \"%s\" argument must be at most %zu bytes. Received %zu bytes", name, max, length);
		return false;
	}
	/* A zero-length view may have no backing store; sendmsg wants a valid
	 * pointer anyway. */
	static const uint8_t empty[1];
	*data = ptr != NULL ? ptr : empty;
	*len = length;
	return true;
}

bool arg_fd_list(napi_env env, napi_value v, const char *name, int *fds, size_t cap, size_t *count)
{
	bool is_array = false;
	if (napi_is_array(env, v, &is_array) != napi_ok) {
		err_napi(env, "napi_is_array");
		return false;
	}
	if (!is_array) {
		err_type(env, "ERR_INVALID_ARG_TYPE", "The \"%s\" argument must be an array of file descriptors", name);
		return false;
	}
	uint32_t n;
	if (napi_get_array_length(env, v, &n) != napi_ok) {
		err_napi(env, "napi_get_array_length");
		return false;
	}
	if (n > cap) {
		err_range(env, "The \"%s\" argument must hold at most %zu file descriptors. Received %u", name, cap, n);
		return false;
	}
	for (uint32_t i = 0; i < n; i++) {
		napi_value e;
		if (napi_get_element(env, v, i, &e) != napi_ok) {
			err_napi(env, "napi_get_element");
			return false;
		}
		if (!arg_fd(env, e, name, &fds[i]))
			return false;
	}
	*count = n;
	return true;
}

bool arg_function(napi_env env, napi_value v, const char *name)
{
	return expect_type(env, v, name, napi_function);
}
