/* tty.c — TIOCGWINSZ / TIOCSWINSZ on any terminal fd (a pty master included), termios, and reading a PTY master. */
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

napi_value tty_get_winsize(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int fd;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd))
		return NULL;
	struct winsize ws;
	if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return err_errno(env, "ioctl", errno, NULL);
	napi_value obj, rows, cols;
	NAPI_TRY(env, napi_create_object(env, &obj));
	NAPI_TRY(env, napi_create_uint32(env, ws.ws_row, &rows));
	NAPI_TRY(env, napi_create_uint32(env, ws.ws_col, &cols));
	NAPI_TRY(env, napi_set_named_property(env, obj, "rows", rows));
	NAPI_TRY(env, napi_set_named_property(env, obj, "cols", cols));
	return obj;
}

napi_value tty_set_winsize(napi_env env, napi_callback_info info)
{
	napi_value argv[2], rows_v, cols_v;
	int fd;
	napi_valuetype type;
	if (!arg_get(env, info, 2, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd))
		return NULL;
	NAPI_TRY(env, napi_typeof(env, argv[1], &type));
	if (type != napi_object)
		return err_type(env, "ERR_INVALID_ARG_TYPE", "The \"size\" argument must be an object {rows, cols}");
	NAPI_TRY(env, napi_get_named_property(env, argv[1], "rows", &rows_v));
	NAPI_TRY(env, napi_get_named_property(env, argv[1], "cols", &cols_v));
	int64_t rows, cols;
	if (!arg_int(env, rows_v, "size.rows", 0, UINT16_MAX, &rows) ||
	    !arg_int(env, cols_v, "size.cols", 0, UINT16_MAX, &cols))
		return NULL;
	/* Pixel sizes are left 0, as terminals that do not know them report. */
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
		return err_errno(env, "ioctl", errno, NULL);
	napi_value undefined;
	NAPI_TRY(env, napi_get_undefined(env, &undefined));
	return undefined;
}

/* getTermios(fd): the terminal's settings as opaque bytes, for setTermios to restore exactly. */
napi_value tty_get_termios(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int fd;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd))
		return NULL;
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		return err_errno(env, "tcgetattr", errno, NULL);
	napi_value buf;
	void *data;
	NAPI_TRY(env, napi_create_buffer_copy(env, sizeof t, &t, &data, &buf));
	return buf;
}

/* setTermios(fd, bytes): restores settings saved by getTermios (TCSADRAIN: output written so far goes first). */
napi_value tty_set_termios(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	int fd;
	const uint8_t *data;
	size_t len;
	if (!arg_get(env, info, 2, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd) ||
	    !arg_bytes(env, argv[1], "termios", sizeof(struct termios), &data, &len))
		return NULL;
	if (len != sizeof(struct termios)) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "termios: not bytes from getTermios");
		return NULL;
	}
	struct termios t;
	memcpy(&t, data, sizeof t);
	if (tcsetattr(fd, TCSADRAIN, &t) < 0)
		return err_errno(env, "tcsetattr", errno, NULL);
	napi_value undefined;
	NAPI_TRY(env, napi_get_undefined(env, &undefined));
	return undefined;
}

/* makeRaw(fd): cfmakeraw, unlike libuv's raw mode, also turns off output processing (ONLCR), so that the relayed
 * PTY output reaches the terminal byte for byte. */
napi_value tty_make_raw(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int fd;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd))
		return NULL;
	struct termios t;
	if (tcgetattr(fd, &t) < 0)
		return err_errno(env, "tcgetattr", errno, NULL);
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSADRAIN, &t) < 0)
		return err_errno(env, "tcsetattr", errno, NULL);
	napi_value undefined;
	NAPI_TRY(env, napi_get_undefined(env, &undefined));
	return undefined;
}

ssize_t tty_pty_read_once(int master, char *buf, size_t room)
{
	for (;;) {
		ssize_t n = read(master, buf, room);
		if (n > 0)
			return n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return PTY_AGAIN;
		if (n == 0 || errno == EIO)
			return PTY_END;
		return PTY_ERROR;
	}
}

bool tty_pty_nonblock(int master)
{
	int flags = fcntl(master, F_GETFL);
	return flags >= 0 && ((flags & O_NONBLOCK) != 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK) == 0);
}

/* ptyRead(master): what the PTY master has to read now, for a relay that must look at the bytes (the escape filter):
 * sets O_NONBLOCK on the master (as the output relay does) and reads until EAGAIN, at most 64 KiB. Returns a Buffer
 * (empty when there was nothing), or null when the master reports the end. What was read before the end is returned
 * first; the end is reported at the next call. */
napi_value tty_pty_read(napi_env env, napi_callback_info info)
{
	napi_value argv[1], result;
	int master;
	static char buf[65536];
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "master", &master))
		return NULL;
	if (!tty_pty_nonblock(master))
		return err_errno(env, "fcntl", errno, NULL);
	size_t held = 0;
	ssize_t n = PTY_AGAIN;
	while (sizeof buf - held >= 4096) {
		n = tty_pty_read_once(master, buf + held, sizeof buf - held);
		if (n <= 0)
			break;
		held += (size_t)n;
	}
	if (n == PTY_ERROR)
		return err_errno(env, "read", errno, NULL);
	if (n == PTY_END && held == 0) {
		NAPI_TRY(env, napi_get_null(env, &result));
		return result;
	}
	NAPI_TRY(env, napi_create_buffer_copy(env, held, buf, NULL, &result));
	return result;
}
