/* relay.c — the PTY output relay: a thread that copies the session's PTY master to the user's terminal.
 *
 * Why a thread: a master read returns at most one line-discipline buffer (4 KiB), and on Node's loop each batch of
 * them waited for an epoll turn and a JavaScript callback (docs/benchmarks.md). The thread blocks in poll() on the
 * master and an eventfd, so output flows while JavaScript is busy, and the main thread only steers it:
 *
 *   pause()  — returns once the thread is parked between writes (job control: the terminal is restored next, and
 *              must not get the program's bytes in cooked mode); the thread neither reads nor writes until resume().
 *   stop()   — makes the thread exit and joins it: no write to `out` after it returns (the session is over, or the
 *              process exits). Idempotent. Bytes read but not yet written are dropped.
 *
 * The thread ends by itself when the master reports the end (EIO once no process holds the slave, or 0) or fails,
 * and then calls onEnd(err) on the main thread (err null for the end). It never closes the fds, touches no napi
 * state besides its threadsafe function, and runs with every signal blocked (signals are the main thread's).
 *
 * Ownership: the JS external owns the struct. stop() (explicit, at env teardown, or in the finalizer) joins the
 * thread before anything is freed. */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"
#include "tty.h"

#define RELAY_BUF (64u * 1024u)

enum relay_state { RELAY_RUN, RELAY_PAUSE, RELAY_PAUSED, RELAY_STOP };

struct relay {
	int master, out, wake;
	pthread_t thread;
	bool running; /* the thread exists and is not joined yet */
	bool hooked;  /* the env cleanup hook is registered */
	napi_env env;
	napi_threadsafe_function on_end;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	_Atomic int state; /* enum relay_state; written under lock, read by the thread without it between writes */
	size_t held, sent; /* buf[sent, held) is read but not yet written (only inside relay_copy) */
	bool out_ok;       /* false once `out` failed: the rest is read and dropped */
	bool done;         /* the thread has left its loop (under lock) */
	char buf[RELAY_BUF];
};

/* What the thread reports: the syscall that failed and its errno, or none at the end. */
struct relay_end {
	const char *syscall;
	int err;
};

static void wake_thread(struct relay *r)
{
	uint64_t one = 1;
	/* Fails only when the counter is saturated, and then the thread is awake anyway. */
	while (write(r->wake, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static void set_state(struct relay *r, enum relay_state s)
{
	pthread_mutex_lock(&r->lock);
	atomic_store(&r->state, s);
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	wake_thread(r);
}

/* At the top of the thread's loop: parks while paused. false when the thread must exit. */
static bool relay_may_go_on(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	if (atomic_load(&r->state) == RELAY_PAUSE) {
		atomic_store(&r->state, RELAY_PAUSED);
		pthread_cond_broadcast(&r->changed);
	}
	while (atomic_load(&r->state) == RELAY_PAUSED)
		pthread_cond_wait(&r->changed, &r->lock);
	bool go_on = atomic_load(&r->state) == RELAY_RUN;
	pthread_mutex_unlock(&r->lock);
	return go_on;
}

static void drain_wake(struct relay *r)
{
	uint64_t n;
	while (read(r->wake, &n, sizeof n) < 0 && errno == EINTR)
		;
}

/* Writes buf[sent, held) to `out`. A blocking terminal write waits in the kernel, as a synchronous write does; a
 * non-blocking `out` (set so by someone else) waits in poll, which stop() interrupts (false: the rest is dropped); a
 * pause waits for the whole batch, as with a blocking `out`. A write error means the terminal is gone: the output is
 * dropped from then on. */
static bool relay_flush(struct relay *r)
{
	while (r->sent < r->held && r->out_ok) {
		ssize_t n = write(r->out, r->buf + r->sent, r->held - r->sent);
		if (n > 0) {
			r->sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p[2] = { { .fd = r->out, .events = POLLOUT }, { .fd = r->wake, .events = POLLIN } };
			if (poll(p, 2, -1) < 0 && errno != EINTR) {
				r->out_ok = false;
				break;
			}
			if (p[1].revents != 0) {
				drain_wake(r);
				if (atomic_load(&r->state) == RELAY_STOP)
					return false;
			}
			continue;
		}
		r->out_ok = false;
	}
	r->held = r->sent = 0;
	return true;
}

/* Reads what the master has, until EAGAIN or the buffer is full, then writes it. Returns PTY_AGAIN to go on, or
 * PTY_END / PTY_ERROR (errno set) — after writing what was read before. */
static ssize_t relay_copy(struct relay *r)
{
	ssize_t n = PTY_AGAIN;
	/* A read returns at most 4 KiB: gathering them makes fewer, larger terminal writes. */
	while (RELAY_BUF - r->held >= 4096) {
		n = tty_pty_read_once(r->master, r->buf + r->held, RELAY_BUF - r->held);
		if (n <= 0)
			break;
		r->held += (size_t)n;
		n = PTY_AGAIN;
	}
	int saved = errno;
	/* Interrupted only by stop(), which the top of the loop sees next. */
	relay_flush(r);
	errno = saved;
	return n;
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	struct relay_end end = { .syscall = NULL, .err = 0 };
	bool ended = false;
	while (!ended && relay_may_go_on(r)) {
		struct pollfd p[2] = { { .fd = r->master, .events = POLLIN }, { .fd = r->wake, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			end = (struct relay_end){ .syscall = "poll", .err = errno };
			ended = true;
			break;
		}
		if (p[1].revents != 0) {
			/* A pause or stop: seen at the top of the loop, before any more output. */
			drain_wake(r);
			continue;
		}
		if ((p[0].revents & POLLNVAL) != 0) {
			end = (struct relay_end){ .syscall = "poll", .err = EBADF };
			ended = true;
		} else if (p[0].revents != 0) {
			/* POLLHUP too: what the program wrote last is read before the EIO. */
			ssize_t n = relay_copy(r);
			if (n == PTY_ERROR)
				end = (struct relay_end){ .syscall = "read", .err = errno };
			ended = n == PTY_END || n == PTY_ERROR;
		}
	}
	if (ended) {
		struct relay_end *report = malloc(sizeof *report);
		/* Without memory the end is still reported, as the end (null). */
		if (report != NULL)
			*report = end;
		if (napi_call_threadsafe_function(r->on_end, report, napi_tsfn_nonblocking) != napi_ok)
			free(report);
	}
	napi_release_threadsafe_function(r->on_end, napi_tsfn_release);
	pthread_mutex_lock(&r->lock);
	r->done = true;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* On the main thread: onEnd(null) at the end, onEnd(Error{code, errno, syscall}) when a read or poll failed. */
static void call_on_end(napi_env env, napi_value callback, void *context, void *data)
{
	struct relay_end *report = data;
	napi_value argv[1], undefined, result;
	if (env == NULL) {
		free(report);
		return; /* the env is being torn down */
	}
	if (report != NULL && report->syscall != NULL)
		argv[0] = err_make_errno(env, report->syscall, report->err, NULL);
	else if (napi_get_null(env, &argv[0]) != napi_ok)
		argv[0] = NULL;
	free(report);
	if (argv[0] != NULL && napi_get_undefined(env, &undefined) == napi_ok)
		napi_call_function(env, undefined, callback, 1, argv, &result);
}

/* Makes the thread exit, joins it and closes the eventfd. No napi calls: it also runs as the env cleanup hook. */
static void relay_join(struct relay *r)
{
	if (r->running) {
		set_state(r, RELAY_STOP);
		pthread_join(r->thread, NULL);
		r->running = false;
	}
	if (r->wake >= 0)
		close(r->wake);
	r->wake = -1;
}

static void relay_cleanup_hook(void *arg)
{
	struct relay *r = arg;
	r->hooked = false;
	relay_join(r);
}

static void relay_finalize(napi_env env, void *data, void *hint)
{
	struct relay *r = data;
	if (r->hooked)
		napi_remove_env_cleanup_hook(env, relay_cleanup_hook, r);
	r->hooked = false;
	relay_join(r);
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* outputRelayStart(master, out, onEnd): sets O_NONBLOCK on the master (its writes, the user's input, must not block
 * the main thread) and starts the thread. Returns the handle for the other outputRelay functions. */
napi_value relay_start(napi_env env, napi_callback_info info)
{
	napi_value argv[3], name, handle;
	int master, out;
	if (!arg_get(env, info, 3, argv, NULL) || !arg_fd(env, argv[0], "master", &master) ||
	    !arg_fd(env, argv[1], "out", &out) || !arg_function(env, argv[2], "onEnd"))
		return NULL;
	if (!tty_pty_nonblock(master))
		return err_errno(env, "fcntl", errno, NULL);
	struct relay *r = calloc(1, sizeof *r);
	if (r == NULL)
		return err_errno(env, "calloc", ENOMEM, NULL);
	r->master = master;
	r->out = out;
	r->env = env;
	r->out_ok = true;
	atomic_init(&r->state, RELAY_RUN);
	r->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake < 0) {
		int saved = errno;
		free(r);
		return err_errno(env, "eventfd", saved, NULL);
	}
	const char *failed = "pthread_mutex_init";
	int rc = pthread_mutex_init(&r->lock, NULL);
	if (rc == 0 && (rc = pthread_cond_init(&r->changed, NULL)) != 0) {
		failed = "pthread_cond_init";
		pthread_mutex_destroy(&r->lock);
	}
	if (rc != 0) {
		close(r->wake);
		free(r);
		return err_errno(env, failed, rc, NULL);
	}
	/* From here the struct is the external's: every failure goes through its finalizer. */
	if (napi_create_external(env, r, relay_finalize, NULL, &handle) != napi_ok) {
		napi_value error = err_napi(env, "napi_create_external");
		relay_finalize(env, r, NULL);
		return error;
	}
	NAPI_TRY(env, napi_create_string_utf8(env, "jai.outputRelay", NAPI_AUTO_LENGTH, &name));
	NAPI_TRY(env, napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, NULL, call_on_end,
						      &r->on_end));
	/* The thread takes no signal: they stay the main thread's (Node's handlers, SIGTSTP for job control). */
	sigset_t all, old;
	sigfillset(&all);
	failed = "pthread_sigmask";
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc == 0) {
		failed = "pthread_create";
		rc = pthread_create(&r->thread, NULL, relay_main, r);
		/* Restoring a mask we just read cannot fail. */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (rc != 0) {
		napi_release_threadsafe_function(r->on_end, napi_tsfn_abort);
		return err_errno(env, failed, rc, NULL);
	}
	r->running = true;
	/* Named as runc names its stages, so that ps and top show which thread is copying. */
	pthread_setname_np(r->thread, "jai-relay");
	if (napi_add_env_cleanup_hook(env, relay_cleanup_hook, r) == napi_ok)
		r->hooked = true;
	return handle;
}

static struct relay *relay_arg(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	napi_valuetype type;
	void *r = NULL;
	if (!arg_get(env, info, 1, argv, NULL) || napi_typeof(env, argv[0], &type) != napi_ok)
		return NULL;
	if (type != napi_external || napi_get_value_external(env, argv[0], &r) != napi_ok || r == NULL) {
		err_type(env, "ERR_INVALID_ARG_TYPE", "The \"relay\" argument must be a handle from outputRelayStart");
		return NULL;
	}
	return r;
}

/* outputRelayPause(relay): returns once the thread is parked between writes (at once when it has ended). */
napi_value relay_pause(napi_env env, napi_callback_info info)
{
	struct relay *r = relay_arg(env, info);
	if (r == NULL)
		return NULL;
	if (r->running) {
		pthread_mutex_lock(&r->lock);
		if (atomic_load(&r->state) == RELAY_RUN) {
			atomic_store(&r->state, RELAY_PAUSE);
			wake_thread(r);
		}
		/* A thread that ended by itself (EIO) does not park: it is gone, which is as good. */
		while (atomic_load(&r->state) == RELAY_PAUSE && !r->done)
			pthread_cond_wait(&r->changed, &r->lock);
		pthread_mutex_unlock(&r->lock);
	}
	return js_undefined(env);
}

/* outputRelayResume(relay): the thread goes on after a pause. */
napi_value relay_resume(napi_env env, napi_callback_info info)
{
	struct relay *r = relay_arg(env, info);
	if (r == NULL)
		return NULL;
	pthread_mutex_lock(&r->lock);
	int state = atomic_load(&r->state);
	pthread_mutex_unlock(&r->lock);
	if (r->running && (state == RELAY_PAUSE || state == RELAY_PAUSED))
		set_state(r, RELAY_RUN);
	return js_undefined(env);
}

/* outputRelayStop(relay): the thread exits and is joined; no write to `out` after this returns. Idempotent. */
napi_value relay_stop(napi_env env, napi_callback_info info)
{
	struct relay *r = relay_arg(env, info);
	if (r == NULL)
		return NULL;
	if (r->hooked)
		napi_remove_env_cleanup_hook(env, relay_cleanup_hook, r);
	r->hooked = false;
	relay_join(r);
	return js_undefined(env);
}
