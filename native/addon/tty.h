/* tty.h — terminal window size. */
#ifndef JAI_ADDON_TTY_H
#define JAI_ADDON_TTY_H

#include <node_api.h>

napi_value tty_get_winsize(napi_env env, napi_callback_info info);
napi_value tty_set_winsize(napi_env env, napi_callback_info info);
napi_value tty_get_termios(napi_env env, napi_callback_info info);
napi_value tty_set_termios(napi_env env, napi_callback_info info);
napi_value tty_make_raw(napi_env env, napi_callback_info info);
napi_value tty_pty_drain(napi_env env, napi_callback_info info);
napi_value tty_pty_read(napi_env env, napi_callback_info info);

#endif
