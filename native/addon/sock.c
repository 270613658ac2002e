/* sock.c — the spawn socket: AF_UNIX SOCK_SEQPACKET, every fd CLOEXEC, fds
 * passed with SCM_RIGHTS. Node's net cannot do this: libuv reads the bytes and
 * the kernel closes any fds attached to them. */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

/* Linux 6.5; glibc 2.36 does not define them. */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* Room for a full SCM_RIGHTS plus the credential cmsgs a misconfigured socket
 * could add, so surprises show up as cmsgs we reject rather than MSG_CTRUNC. */
#define CONTROL_BYTES \
	(CMSG_SPACE(sizeof(int) * SOCK_MAX_FDS) + CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int)))
#define CONTROL_MAX_FDS (CONTROL_BYTES / sizeof(int))

static napi_value js_null(napi_env env)
{
	napi_value v;
	NAPI_TRY(env, napi_get_null(env, &v));
	return v;
}

static void close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* Hand a new fd to JS; if even that fails, the fd must not leak. */
static napi_value return_fd(napi_env env, int fd)
{
	napi_value v;
	if (napi_create_int32(env, fd, &v) != napi_ok) {
		close(fd);
		return err_napi(env, "napi_create_int32");
	}
	return v;
}

/* Close fd (errno already captured in err) and throw. */
static napi_value fail_close(napi_env env, int fd, const char *syscall, int err, const char *path)
{
	close(fd);
	return err_errno(env, syscall, err, path);
}

/* Same, after bind created the socket file: remove what we created. */
static napi_value fail_unlink(napi_env env, int fd, const char *syscall, int err, const char *path)
{
	unlink(path);
	return fail_close(env, fd, syscall, err, path);
}

static void fill_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof *addr);
	addr->sun_family = AF_UNIX;
	/* arg_string bounded path to SUN_PATH_MAX - 1 bytes plus its NUL. */
	memcpy(addr->sun_path, path, strlen(path) + 1);
}

napi_value sock_seqpacket_listen(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	char path[SUN_PATH_MAX];
	int64_t mode, backlog;
	if (!arg_get(env, info, 3, argv, NULL) || !arg_string(env, argv[0], "path", path, sizeof path) ||
	    !arg_int(env, argv[1], "mode", 0, 07777, &mode) ||
	    !arg_int(env, argv[2], "backlog", 0, INT_MAX, &backlog))
		return NULL;
	struct sockaddr_un addr;
	fill_addr(&addr, path);

	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_errno(env, "socket", errno, NULL);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		return fail_close(env, fd, "bind", errno, path);
	/* fchmod on a socket fd changes the sockfs inode, not the file bind
	 * made: the path is the object that carries the permission. */
	if (chmod(path, (mode_t)mode) < 0)
		return fail_unlink(env, fd, "chmod", errno, path);
	if (listen(fd, (int)backlog) < 0)
		return fail_unlink(env, fd, "listen", errno, path);
	return return_fd(env, fd);
}

napi_value sock_seqpacket_adopt(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int fd;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd))
		return NULL;
	int domain = -1, type = -1, listening = 0;
	socklen_t len = sizeof domain;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return err_errno(env, "getsockopt", errno, NULL);
	len = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return err_errno(env, "getsockopt", errno, NULL);
	len = sizeof listening;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return err_errno(env, "getsockopt", errno, NULL);
	if (domain != AF_UNIX || type != SOCK_SEQPACKET || !listening)
		return err_code(env, "EJAI_BAD_SOCKET", "getsockopt",
				"fd %d is not a listening AF_UNIX SOCK_SEQPACKET socket", fd);
	int fd_flags = fcntl(fd, F_GETFD);
	if (fd_flags < 0)
		return err_errno(env, "fcntl", errno, NULL);
	if (fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0)
		return err_errno(env, "fcntl", errno, NULL);
	int fl_flags = fcntl(fd, F_GETFL);
	if (fl_flags < 0)
		return err_errno(env, "fcntl", errno, NULL);
	if (fcntl(fd, F_SETFL, fl_flags | O_NONBLOCK) < 0)
		return err_errno(env, "fcntl", errno, NULL);
	napi_value undefined;
	NAPI_TRY(env, napi_get_undefined(env, &undefined));
	return undefined;
}

napi_value sock_seqpacket_accept(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int fd;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "listenFd", &fd))
		return NULL;
	int conn;
	do
		conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	while (conn < 0 && errno == EINTR);
	/* Nothing queued, or the client gave up before we got to it. */
	if (conn < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED))
		return js_null(env);
	if (conn < 0)
		return err_errno(env, "accept4", errno, NULL);
	return return_fd(env, conn);
}

napi_value sock_seqpacket_connect(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	char path[SUN_PATH_MAX];
	int64_t wait_ms;
	if (!arg_get(env, info, 2, argv, NULL) || !arg_string(env, argv[0], "path", path, sizeof path) ||
	    !arg_int(env, argv[1], "waitMs", 0, 60000, &wait_ms))
		return NULL;
	struct sockaddr_un addr;
	fill_addr(&addr, path);
	/* AF_UNIX connect completes or fails at once, but for a full backlog:
	 * non-blocking, that is EAGAIN; blocking with SO_SNDTIMEO, the kernel
	 * queues us as a waiter woken at each accept (so another client's
	 * flood of connects cannot keep us out for long), for at most wait_ms. */
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | (wait_ms == 0 ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return err_errno(env, "socket", errno, NULL);
	if (wait_ms > 0) {
		struct timeval tv = { .tv_sec = wait_ms / 1000, .tv_usec = (wait_ms % 1000) * 1000 };
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
			return fail_close(env, fd, "setsockopt", errno, path);
	}
	int rc;
	do
		rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
	while (rc < 0 && errno == EINTR && wait_ms > 0);
	if (rc < 0)
		return fail_close(env, fd, "connect", errno == EINPROGRESS ? EAGAIN : errno, path);
	if (wait_ms > 0) {
		/* Back to what every other fd of ours is: non-blocking, no send timeout. */
		struct timeval none = { 0 };
		int flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none) < 0)
			return fail_close(env, fd, "fcntl", errno, path);
	}
	return return_fd(env, fd);
}

napi_value sock_seqpacket_pair(napi_env env, napi_callback_info info)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_errno(env, "socketpair", errno, NULL);
	/* sv[0] stays with us (non-blocking, polled); sv[1] goes to a child,
	 * which expects ordinary blocking reads. */
	int flags = fcntl(sv[0], F_GETFL);
	if (flags < 0 || fcntl(sv[0], F_SETFL, flags | O_NONBLOCK) < 0) {
		int err = errno;
		close_all(sv, 2);
		return err_errno(env, "fcntl", err, NULL);
	}
	napi_value arr, a, b;
	if (napi_create_array_with_length(env, 2, &arr) != napi_ok || napi_create_int32(env, sv[0], &a) != napi_ok ||
	    napi_create_int32(env, sv[1], &b) != napi_ok || napi_set_element(env, arr, 0, a) != napi_ok ||
	    napi_set_element(env, arr, 1, b) != napi_ok) {
		close_all(sv, 2);
		return err_napi(env, "building the socketpair result");
	}
	return arr;
}

napi_value sock_send_message(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	int fd;
	const uint8_t *data;
	size_t len, nfds;
	int fds[SOCK_MAX_FDS];
	if (!arg_get(env, info, 3, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd) ||
	    !arg_bytes(env, argv[1], "data", SOCK_MAX_BYTES, &data, &len) ||
	    !arg_fd_list(env, argv[2], "fds", fds, SOCK_MAX_FDS, &nfds))
		return NULL;

	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * SOCK_MAX_FDS)];
		struct cmsghdr align;
	} control;
	if (nfds > 0) {
		memset(&control, 0, sizeof control);
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	napi_value result;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		NAPI_TRY(env, napi_get_boolean(env, false, &result));
		return result;
	}
	if (n < 0)
		return err_errno(env, "sendmsg", errno, NULL);
	/* SEQPACKET sends are atomic; a short one means the protocol is broken. */
	if ((size_t)n != len)
		return err_code(env, "EJAI_SHORT_SEND", "sendmsg", "sent %zd of %zu bytes", n, len);
	NAPI_TRY(env, napi_get_boolean(env, true, &result));
	return result;
}

/* {data, fds, eof, truncated}; NULL (exception pending) if any napi call fails. */
static napi_value build_received(napi_env env, const uint8_t *buf, size_t len, const int *fds, size_t nfds,
				 bool eof, bool truncated)
{
	napi_value obj, data, arr, v;
	NAPI_TRY(env, napi_create_object(env, &obj));
	NAPI_TRY(env, napi_create_buffer_copy(env, len, buf, NULL, &data));
	NAPI_TRY(env, napi_set_named_property(env, obj, "data", data));
	NAPI_TRY(env, napi_create_array_with_length(env, nfds, &arr));
	for (size_t i = 0; i < nfds; i++) {
		NAPI_TRY(env, napi_create_int32(env, fds[i], &v));
		NAPI_TRY(env, napi_set_element(env, arr, (uint32_t)i, v));
	}
	NAPI_TRY(env, napi_set_named_property(env, obj, "fds", arr));
	NAPI_TRY(env, napi_get_boolean(env, eof, &v));
	NAPI_TRY(env, napi_set_named_property(env, obj, "eof", v));
	NAPI_TRY(env, napi_get_boolean(env, truncated, &v));
	NAPI_TRY(env, napi_set_named_property(env, obj, "truncated", v));
	return obj;
}

napi_value sock_recv_message(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	int fd;
	int64_t max_bytes, max_fds;
	if (!arg_get(env, info, 3, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd) ||
	    !arg_int(env, argv[1], "maxBytes", 0, SOCK_MAX_BYTES, &max_bytes) ||
	    !arg_int(env, argv[2], "maxFds", 0, SOCK_MAX_FDS, &max_fds))
		return NULL;

	/* One spare byte: a message that fills it is larger than allowed. */
	uint8_t *buf = malloc((size_t)max_bytes + 1);
	if (buf == NULL)
		return err_errno(env, "malloc", ENOMEM, NULL);
	struct iovec iov = { .iov_base = buf, .iov_len = (size_t)max_bytes + 1 };
	union {
		char buf[CONTROL_BYTES];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf
	};
	ssize_t n;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;
		free(buf);
		if (err == EAGAIN || err == EWOULDBLOCK)
			return js_null(env);
		return err_errno(env, "recvmsg", err, NULL);
	}

	/* Collect every fd the kernel installed, whatever cmsg carried it, so
	 * that each rejection path below can close them all. */
	int fds[CONTROL_MAX_FDS];
	size_t nfds = 0;
	bool foreign = false;
	const char *end = control.buf + msg.msg_controllen;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		bool carries_fds = c->cmsg_level == SOL_SOCKET && (c->cmsg_type == SCM_RIGHTS || c->cmsg_type == SCM_PIDFD);
		if (!(c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS))
			foreign = true;
		if (!carries_fds || c->cmsg_len < CMSG_LEN(0))
			continue;
		const char *data = (const char *)CMSG_DATA(c);
		size_t bytes = c->cmsg_len - CMSG_LEN(0);
		if (bytes > (size_t)(end - data))
			bytes = (size_t)(end - data);
		for (size_t i = 0; i + sizeof(int) <= bytes && nfds < CONTROL_MAX_FDS; i += sizeof(int))
			memcpy(&fds[nfds++], data + i, sizeof(int));
	}
	bool ctrunc = (msg.msg_flags & MSG_CTRUNC) != 0;
	if (ctrunc || foreign || nfds > (size_t)max_fds) {
		close_all(fds, nfds);
		free(buf);
		/* The caller never sees fds it did not ask for. */
		return err_code(env, "EJAI_FDS", "recvmsg", "%zu fds received, at most %lld expected%s%s", nfds,
				(long long)max_fds, ctrunc ? ", control data truncated" : "",
				foreign ? ", unexpected control message" : "");
	}

	size_t got = (size_t)n;
	bool truncated = got > (size_t)max_bytes || (msg.msg_flags & MSG_TRUNC) != 0;
	bool eof = got == 0 && nfds == 0;
	napi_value result =
		build_received(env, buf, got > (size_t)max_bytes ? (size_t)max_bytes : got, fds, nfds, eof, truncated);
	free(buf);
	if (result == NULL)
		close_all(fds, nfds);
	return result;
}

napi_value sock_send_datagram(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	char path[SUN_PATH_MAX];
	const uint8_t *data;
	size_t len;
	if (!arg_get(env, info, 2, argv, NULL) || !arg_string(env, argv[0], "path", path, sizeof path) ||
	    !arg_bytes(env, argv[1], "data", SOCK_MAX_BYTES, &data, &len))
		return NULL;
	if (path[0] != '/' && path[0] != '@')
		return err_type(env, "ERR_INVALID_ARG_VALUE", "The \"path\" argument must start with '/' or '@'");
	struct sockaddr_un addr;
	fill_addr(&addr, path);
	socklen_t addrlen = sizeof addr;
	/* '@' names the abstract namespace (as $NOTIFY_SOCKET does): a leading
	 * NUL, and the length counts only the name, no terminator. */
	if (path[0] == '@') {
		addr.sun_path[0] = '\0';
		addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_errno(env, "socket", errno, NULL);
	/* Never block the caller on a full receiver: EAGAIN is an error here. */
	ssize_t n = sendto(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&addr, addrlen);
	if (n < 0)
		return fail_close(env, fd, "sendto", errno, path);
	close(fd);
	if ((size_t)n != len)
		return err_code(env, "EJAI_SHORT_SEND", "sendto", "sent %zd of %zu bytes", n, len);
	napi_value undefined;
	NAPI_TRY(env, napi_get_undefined(env, &undefined));
	return undefined;
}

napi_value sock_peer_cred(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int fd;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd))
		return NULL;
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return err_errno(env, "getsockopt", errno, NULL);
	napi_value obj, pid, uid, gid;
	NAPI_TRY(env, napi_create_object(env, &obj));
	NAPI_TRY(env, napi_create_int32(env, cred.pid, &pid));
	NAPI_TRY(env, napi_create_uint32(env, cred.uid, &uid));
	NAPI_TRY(env, napi_create_uint32(env, cred.gid, &gid));
	NAPI_TRY(env, napi_set_named_property(env, obj, "pid", pid));
	NAPI_TRY(env, napi_set_named_property(env, obj, "uid", uid));
	NAPI_TRY(env, napi_set_named_property(env, obj, "gid", gid));
	return obj;
}

napi_value sock_peer_pidfd(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int fd;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_fd(env, argv[0], "fd", &fd))
		return NULL;
	int pidfd = -1;
	socklen_t len = sizeof pidfd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
		/* Kernel before 6.5, or a socket without a peer pid. */
		if (errno == ENOPROTOOPT || errno == EINVAL)
			return js_null(env);
		return err_errno(env, "getsockopt", errno, NULL);
	}
	/* The kernel makes pidfds CLOEXEC; check rather than assume. */
	int flags = fcntl(pidfd, F_GETFD);
	if (flags < 0)
		return fail_close(env, pidfd, "fcntl", errno, NULL);
	if (!(flags & FD_CLOEXEC) && fcntl(pidfd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return fail_close(env, pidfd, "fcntl", errno, NULL);
	return return_fd(env, pidfd);
}
