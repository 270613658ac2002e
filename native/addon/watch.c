/* watch.c — Watcher: a uv_poll_t on Node's loop, callbacks through
 * napi_make_callback.
 *
 * Ownership: the JS object owns the handle through napi_wrap. While polling
 * is started, a strong reference keeps the object (and the callback stored on
 * it) alive, as any active Node handle is; once stopped, the reference is weak
 * and an unreachable watcher is collected, its finalizer closing the poll.
 * close() removes the wrap and closes the poll itself. Either way the memory is
 * freed in uv_close's callback, never earlier, so an in-flight on_poll never
 * sees freed memory. The fd is never closed here. */
#include "watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "args.h"
#include "errors.h"

struct watcher {
	uv_poll_t poll;
	napi_env env;
	napi_ref self; /* the JS object: weak, strong while started */
	napi_async_context async;
	bool started;
};

/* Per-env: the class, and the symbol under which each object keeps its callback. */
struct watch_data {
	napi_ref ctor;
	napi_ref callback_key;
};

static void on_close(uv_handle_t *handle)
{
	free(handle->data);
}

/* Drop every napi resource and close the poll; the memory goes in on_close. */
static void watcher_dispose(napi_env env, struct watcher *w)
{
	uv_poll_stop(&w->poll);
	w->started = false;
	if (w->self != NULL)
		napi_delete_reference(env, w->self);
	w->self = NULL;
	if (w->async != NULL)
		napi_async_destroy(env, w->async);
	w->async = NULL;
	uv_close((uv_handle_t *)&w->poll, on_close);
}

static void watcher_finalize(napi_env env, void *data, void *hint)
{
	watcher_dispose(env, data);
}

/* Polling stopped (by us or by libuv): let the object be collected again. */
static void watcher_release(napi_env env, struct watcher *w)
{
	if (!w->started)
		return;
	w->started = false;
	napi_reference_unref(env, w->self, NULL);
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
	struct watcher *w = handle->data;
	napi_env env = w->env;
	/* On POLLERR libuv has already stopped the handle. */
	if (status < 0)
		watcher_release(env, w);

	napi_handle_scope scope;
	if (napi_open_handle_scope(env, &scope) != napi_ok)
		return;
	struct watch_data *d = NULL;
	napi_value self = NULL, key, callback, argv[3], result;
	if (napi_get_instance_data(env, (void **)&d) != napi_ok || d == NULL ||
	    napi_get_reference_value(env, w->self, &self) != napi_ok || self == NULL ||
	    napi_get_reference_value(env, d->callback_key, &key) != napi_ok ||
	    napi_get_property(env, self, key, &callback) != napi_ok)
		goto out;
	if (status < 0)
		argv[0] = err_make_errno(env, "uv_poll", -status, NULL);
	else if (napi_get_null(env, &argv[0]) != napi_ok)
		argv[0] = NULL;
	if (argv[0] == NULL || napi_get_boolean(env, (events & UV_READABLE) != 0, &argv[1]) != napi_ok ||
	    napi_get_boolean(env, (events & UV_WRITABLE) != 0, &argv[2]) != napi_ok)
		goto out;
	/* The callback may close the watcher; w stays allocated until on_close
	 * runs later in this loop iteration, but is not touched again here. */
	napi_make_callback(env, w->async, self, callback, 3, argv, &result);
out:;
	/* Nothing on the JS stack to return to: an exception from the callback
	 * (or from building its arguments) becomes an uncaught exception. */
	bool pending = false;
	napi_value exception;
	if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
	    napi_get_and_clear_last_exception(env, &exception) == napi_ok)
		napi_fatal_exception(env, exception);
	napi_close_handle_scope(env, scope);
}

/* The watcher behind `this`, or NULL once closed (no exception). */
static struct watcher *this_watcher(napi_env env, napi_callback_info info, size_t argc, napi_value *argv)
{
	napi_value self;
	void *w = NULL;
	if (!arg_get(env, info, argc, argv, &self))
		return NULL;
	if (napi_unwrap(env, self, &w) != napi_ok)
		return NULL;
	return w;
}

static napi_value watcher_start(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	bool pending = false;
	struct watcher *w = this_watcher(env, info, 1, argv);
	if (w == NULL && napi_is_exception_pending(env, &pending) == napi_ok && pending)
		return NULL;
	if (w == NULL)
		return err_code(env, "EJAI_CLOSED", "uv_poll_start", "watcher is closed");
	char events[4];
	if (!arg_string(env, argv[0], "events", events, sizeof events))
		return NULL;
	int flags = strcmp(events, "r") == 0 ? UV_READABLE
		  : strcmp(events, "w") == 0 ? UV_WRITABLE
		  : strcmp(events, "rw") == 0 ? UV_READABLE | UV_WRITABLE
					      : 0;
	if (flags == 0)
		return err_type(env, "ERR_INVALID_ARG_VALUE", "The \"events\" argument must be 'r', 'w' or 'rw'");
	int rc = uv_poll_start(&w->poll, flags, on_poll);
	if (rc < 0)
		return err_errno(env, "uv_poll_start", -rc, NULL);
	if (!w->started)
		NAPI_TRY(env, napi_reference_ref(env, w->self, NULL));
	w->started = true;
	return js_undefined(env);
}

static napi_value watcher_stop(napi_env env, napi_callback_info info)
{
	struct watcher *w = this_watcher(env, info, 0, NULL);
	if (w != NULL) {
		uv_poll_stop(&w->poll);
		watcher_release(env, w);
	}
	return js_undefined(env);
}

static napi_value watcher_close(napi_env env, napi_callback_info info)
{
	napi_value self;
	void *w = NULL;
	if (!arg_get(env, info, 0, NULL, &self))
		return NULL;
	/* Idempotent: a closed watcher is no longer wrapped. */
	if (napi_remove_wrap(env, self, &w) != napi_ok || w == NULL)
		return js_undefined(env);
	watcher_dispose(env, w);
	return js_undefined(env);
}

static napi_value watcher_ref(napi_env env, napi_callback_info info)
{
	struct watcher *w = this_watcher(env, info, 0, NULL);
	if (w != NULL)
		uv_ref((uv_handle_t *)&w->poll);
	return js_undefined(env);
}

static napi_value watcher_unref(napi_env env, napi_callback_info info)
{
	struct watcher *w = this_watcher(env, info, 0, NULL);
	if (w != NULL)
		uv_unref((uv_handle_t *)&w->poll);
	return js_undefined(env);
}

/* new Watcher(fd, callback) */
static napi_value watcher_construct(napi_env env, napi_callback_info info)
{
	napi_value argv[2], self, key, name;
	int fd;
	struct watch_data *d = NULL;
	uv_loop_t *loop = NULL;
	if (!arg_get(env, info, 2, argv, &self) || !arg_fd(env, argv[0], "fd", &fd) ||
	    !arg_function(env, argv[1], "callback"))
		return NULL;
	NAPI_TRY(env, napi_get_instance_data(env, (void **)&d));
	NAPI_TRY(env, napi_get_reference_value(env, d->callback_key, &key));
	/* The object holds its callback (not a strong native reference), so a
	 * callback that captures its watcher does not keep it alive forever. */
	napi_property_descriptor prop = { .name = key, .value = argv[1], .attributes = napi_default };
	NAPI_TRY(env, napi_define_properties(env, self, 1, &prop));
	NAPI_TRY(env, napi_create_string_utf8(env, "jai.watch", NAPI_AUTO_LENGTH, &name));
	NAPI_TRY(env, napi_get_uv_event_loop(env, &loop));

	struct watcher *w = calloc(1, sizeof *w);
	if (w == NULL)
		return err_errno(env, "calloc", ENOMEM, NULL);
	int rc = uv_poll_init(loop, &w->poll, fd);
	if (rc < 0) {
		free(w);
		return err_errno(env, "uv_poll_init", -rc, NULL);
	}
	w->poll.data = w;
	w->env = env;
	/* From here the handle exists: every failure goes through dispose. */
	if (napi_async_init(env, self, name, &w->async) != napi_ok) {
		w->async = NULL;
		goto fail;
	}
	if (napi_create_reference(env, self, 0, &w->self) != napi_ok) {
		w->self = NULL;
		goto fail;
	}
	if (napi_wrap(env, self, w, watcher_finalize, NULL, NULL) != napi_ok)
		goto fail;
	return self;
fail:;
	napi_value error = err_napi(env, "creating a watcher");
	watcher_dispose(env, w);
	return error;
}

/* watch(fd, callback): a new Watcher, not yet started. */
static napi_value watch_create(napi_env env, napi_callback_info info)
{
	napi_value argv[2], ctor, instance;
	struct watch_data *d = NULL;
	if (!arg_get(env, info, 2, argv, NULL))
		return NULL;
	NAPI_TRY(env, napi_get_instance_data(env, (void **)&d));
	NAPI_TRY(env, napi_get_reference_value(env, d->ctor, &ctor));
	NAPI_TRY(env, napi_new_instance(env, ctor, 2, argv, &instance));
	return instance;
}

static void watch_data_finalize(napi_env env, void *data, void *hint)
{
	struct watch_data *d = data;
	if (d->ctor != NULL)
		napi_delete_reference(env, d->ctor);
	if (d->callback_key != NULL)
		napi_delete_reference(env, d->callback_key);
	free(d);
}

bool watch_init(napi_env env, napi_value exports)
{
	static const napi_property_descriptor methods[] = {
		{ .utf8name = "start", .method = watcher_start, .attributes = napi_default_method },
		{ .utf8name = "stop", .method = watcher_stop, .attributes = napi_default_method },
		{ .utf8name = "close", .method = watcher_close, .attributes = napi_default_method },
		{ .utf8name = "ref", .method = watcher_ref, .attributes = napi_default_method },
		{ .utf8name = "unref", .method = watcher_unref, .attributes = napi_default_method },
	};
	napi_value ctor, key_name, key, fn;
	struct watch_data *d = calloc(1, sizeof *d);
	if (d == NULL) {
		err_errno(env, "calloc", ENOMEM, NULL);
		return false;
	}
	if (napi_set_instance_data(env, d, watch_data_finalize, NULL) != napi_ok) {
		free(d);
		err_napi(env, "napi_set_instance_data");
		return false;
	}
	if (napi_define_class(env, "Watcher", NAPI_AUTO_LENGTH, watcher_construct, NULL,
			      sizeof methods / sizeof methods[0], methods, &ctor) != napi_ok ||
	    napi_create_reference(env, ctor, 1, &d->ctor) != napi_ok ||
	    napi_create_string_utf8(env, "jai.watch.callback", NAPI_AUTO_LENGTH, &key_name) != napi_ok ||
	    napi_create_symbol(env, key_name, &key) != napi_ok ||
	    napi_create_reference(env, key, 1, &d->callback_key) != napi_ok ||
	    napi_create_function(env, "watch", NAPI_AUTO_LENGTH, watch_create, NULL, &fn) != napi_ok ||
	    napi_set_named_property(env, exports, "watch", fn) != napi_ok) {
		err_napi(env, "defining Watcher");
		return false;
	}
	return true;
}
