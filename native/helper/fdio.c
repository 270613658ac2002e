/* fdio.c — see fdio.h. */
#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "die.h"

void fdio_require_open(int fd, const char *what)
{
	if (fcntl(fd, F_GETFD) < 0)
		die_errno("fcntl(%d, F_GETFD) (%s)", fd, what);
}

void fdio_require_seqpacket(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof type;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		die_errno("getsockopt(%d, SO_TYPE) (status socket)", fd);
	len = sizeof domain;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		die_errno("getsockopt(%d, SO_DOMAIN) (status socket)", fd);
	if (type != SOCK_SEQPACKET || domain != AF_UNIX)
		die("fd %d (status socket) is not an AF_UNIX SOCK_SEQPACKET socket", fd);
}

size_t fdio_read_all(int fd, char *buf, size_t max)
{
	size_t len = 0;

	for (;;) {
		/* Ask for one byte more than allowed so that an oversized plan is seen, not truncated. */
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read(%d) (plan)", fd);
		if (n == 0)
			return len;
		len += (size_t)n;
		if (len > max)
			die("plan larger than %zu bytes", max);
	}
}

static int fdio_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

void fdio_close_all_except(const int *keep, size_t n)
{
	int sorted[128];
	unsigned int next = 0;
	size_t i;

	if (n > sizeof sorted / sizeof sorted[0])
		die("too many fds to keep (%zu)", n);
	memcpy(sorted, keep, n * sizeof *keep);
	qsort(sorted, n, sizeof *sorted, fdio_cmp_int);
	for (i = 0; i < n; i++) {
		unsigned int fd = (unsigned int)sorted[i];

		if (fd > next && close_range(next, fd - 1, 0) < 0)
			die_errno("close_range(%u, %u)", next, fd - 1);
		if (fd + 1 > next)
			next = fd + 1;
	}
	if (close_range(next, ~0U, 0) < 0)
		die_errno("close_range(%u, ~0)", next);
}

int fdio_send_record(int sock, const char *fmt, ...)
{
	char buf[FDIO_RECORD_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > FDIO_RECORD_MAX)
		n = FDIO_RECORD_MAX;
	for (;;) {
		ssize_t sent = send(sock, buf, (size_t)n, MSG_NOSIGNAL);

		if (sent < 0 && errno == EINTR)
			continue;
		return sent < 0 ? -1 : 0;
	}
}

int fdio_send_fd(int sock, const char *text, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof control.buf,
	};
	struct cmsghdr *cmsg;

	memset(&control, 0, sizeof control);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
	for (;;) {
		ssize_t sent = sendmsg(sock, &msg, MSG_NOSIGNAL);

		if (sent < 0 && errno == EINTR)
			continue;
		return sent < 0 ? -1 : 0;
	}
}

void fdio_await_go(int sock)
{
	char buf[16];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	/* No control buffer: an fd sent along would be dropped (MSG_CTRUNC), never installed here. */
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die_errno("recvmsg(status) (waiting for the daemon's go)");
	if (n == 0)
		die("the daemon went away before its go");
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || n != 2 || memcmp(buf, "go", 2) != 0)
		die("unexpected packet from the daemon (%zd bytes) instead of its go", n);
}
