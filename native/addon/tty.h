/* tty.h — terminal window size, termios, and reading a PTY master. */
#ifndef JAI_ADDON_TTY_H
#define JAI_ADDON_TTY_H

#include <node_api.h>
#include <stdbool.h>
#include <sys/types.h>

napi_value tty_get_winsize(napi_env env, napi_callback_info info);
napi_value tty_set_winsize(napi_env env, napi_callback_info info);
napi_value tty_get_termios(napi_env env, napi_callback_info info);
napi_value tty_set_termios(napi_env env, napi_callback_info info);
napi_value tty_make_raw(napi_env env, napi_callback_info info);
napi_value tty_pty_read(napi_env env, napi_callback_info info);

/* What one read of a PTY master gave (besides > 0 bytes). */
enum { PTY_AGAIN = 0, PTY_END = -1, PTY_ERROR = -2 };

/* One read of the non-blocking master for the relays: the bytes read, PTY_AGAIN (nothing now), PTY_END (EIO once no
 * process holds the slave, or 0) or PTY_ERROR with errno set; EINTR is retried. */
ssize_t tty_pty_read_once(int master, char *buf, size_t room);

/* Sets O_NONBLOCK on the master (the client holds its only copy); false with errno set. */
bool tty_pty_nonblock(int master);

#endif
