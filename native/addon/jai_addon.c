/* jai_addon.c — module registration. The addon is the minimum Node lacks for
 * jai: fd passing over SOCK_SEQPACKET with peer credentials, readiness on
 * Node's loop, window sizes, NSS lookups, starting the helper without forking
 * jaid. Loaded only by native/addon/index.ts, which validates arguments first;
 * every binding validates them again. */
#include <node_api.h>

#include "errors.h"
#include "nss.h"
#include "proc.h"
#include "relay.h"
#include "sock.h"
#include "spawn.h"
#include "tty.h"
#include "watch.h"

static napi_value init(napi_env env, napi_value exports)
{
	static const napi_property_descriptor functions[] = {
		{ .utf8name = "seqpacketListen", .method = sock_seqpacket_listen, .attributes = napi_enumerable },
		{ .utf8name = "seqpacketAdopt", .method = sock_seqpacket_adopt, .attributes = napi_enumerable },
		{ .utf8name = "seqpacketAccept", .method = sock_seqpacket_accept, .attributes = napi_enumerable },
		{ .utf8name = "seqpacketConnect", .method = sock_seqpacket_connect, .attributes = napi_enumerable },
		{ .utf8name = "seqpacketPair", .method = sock_seqpacket_pair, .attributes = napi_enumerable },
		{ .utf8name = "sendMessage", .method = sock_send_message, .attributes = napi_enumerable },
		{ .utf8name = "recvMessage", .method = sock_recv_message, .attributes = napi_enumerable },
		{ .utf8name = "sendDatagram", .method = sock_send_datagram, .attributes = napi_enumerable },
		{ .utf8name = "peerCred", .method = sock_peer_cred, .attributes = napi_enumerable },
		{ .utf8name = "peerPidfd", .method = sock_peer_pidfd, .attributes = napi_enumerable },
		{ .utf8name = "getWinsize", .method = tty_get_winsize, .attributes = napi_enumerable },
		{ .utf8name = "setWinsize", .method = tty_set_winsize, .attributes = napi_enumerable },
		{ .utf8name = "closeFd", .method = proc_close_fd, .attributes = napi_enumerable },
		{ .utf8name = "pipe", .method = proc_pipe, .attributes = napi_enumerable },
		{ .utf8name = "getpwuid", .method = nss_getpwuid, .attributes = napi_enumerable },
		{ .utf8name = "getpwnam", .method = nss_getpwnam, .attributes = napi_enumerable },
		{ .utf8name = "getgrouplist", .method = nss_getgrouplist, .attributes = napi_enumerable },
		{ .utf8name = "getgrnam", .method = nss_getgrnam, .attributes = napi_enumerable },
		{ .utf8name = "getgrgid", .method = nss_getgrgid, .attributes = napi_enumerable },
		{ .utf8name = "umask", .method = proc_umask, .attributes = napi_enumerable },
		{ .utf8name = "stopSelf", .method = proc_stop_self, .attributes = napi_enumerable },
		{ .utf8name = "exitNow", .method = proc_exit_now, .attributes = napi_enumerable },
		{ .utf8name = "getTermios", .method = tty_get_termios, .attributes = napi_enumerable },
		{ .utf8name = "setTermios", .method = tty_set_termios, .attributes = napi_enumerable },
		{ .utf8name = "makeRaw", .method = tty_make_raw, .attributes = napi_enumerable },
		{ .utf8name = "ptyRead", .method = tty_pty_read, .attributes = napi_enumerable },
		{ .utf8name = "spawn", .method = spawn_spawn, .attributes = napi_enumerable },
		{ .utf8name = "openExecutable", .method = spawn_open_executable, .attributes = napi_enumerable },
		{ .utf8name = "pidfdWait", .method = spawn_pidfd_wait, .attributes = napi_enumerable },
		{ .utf8name = "pidfdSignal", .method = spawn_pidfd_signal, .attributes = napi_enumerable },
		{ .utf8name = "sealedMemfd", .method = spawn_sealed_memfd, .attributes = napi_enumerable },
		{ .utf8name = "outputRelayStart", .method = relay_start, .attributes = napi_enumerable },
		{ .utf8name = "outputRelayPause", .method = relay_pause, .attributes = napi_enumerable },
		{ .utf8name = "outputRelayResume", .method = relay_resume, .attributes = napi_enumerable },
		{ .utf8name = "outputRelayStop", .method = relay_stop, .attributes = napi_enumerable },
	};
	NAPI_TRY(env, napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions));
	if (!watch_init(env, exports))
		return NULL;
	napi_value max_fds, max_bytes;
	NAPI_TRY(env, napi_create_uint32(env, SOCK_MAX_FDS, &max_fds));
	NAPI_TRY(env, napi_set_named_property(env, exports, "MAX_FDS", max_fds));
	NAPI_TRY(env, napi_create_uint32(env, SOCK_MAX_BYTES, &max_bytes));
	NAPI_TRY(env, napi_set_named_property(env, exports, "MAX_BYTES", max_bytes));
	return exports;
}

/* node_api.h defines this without declaring it first; declare it so that
 * -Wmissing-prototypes stays on for everything else. */
NAPI_MODULE_EXPORT int32_t NODE_API_MODULE_GET_API_VERSION(void);

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
