/* sock.h — SOCK_SEQPACKET sockets, SCM_RIGHTS messages, peer identity. */
#ifndef JAI_ADDON_SOCK_H
#define JAI_ADDON_SOCK_H

#include <node_api.h>

/* Most fds one SCM_RIGHTS message may carry (the kernel's SCM_MAX_FD). */
#define SOCK_MAX_FDS 253
/* Largest message sendMessage accepts and recvMessage may be asked for. */
#define SOCK_MAX_BYTES (16u << 20)

napi_value sock_seqpacket_listen(napi_env env, napi_callback_info info);
napi_value sock_seqpacket_adopt(napi_env env, napi_callback_info info);
napi_value sock_seqpacket_accept(napi_env env, napi_callback_info info);
napi_value sock_seqpacket_connect(napi_env env, napi_callback_info info);
napi_value sock_seqpacket_pair(napi_env env, napi_callback_info info);
napi_value sock_send_message(napi_env env, napi_callback_info info);
napi_value sock_recv_message(napi_env env, napi_callback_info info);
/* One datagram to an AF_UNIX SOCK_DGRAM path ('@' = abstract), e.g. sd_notify. */
napi_value sock_send_datagram(napi_env env, napi_callback_info info);
napi_value sock_peer_cred(napi_env env, napi_callback_info info);
napi_value sock_peer_pidfd(napi_env env, napi_callback_info info);

#endif
