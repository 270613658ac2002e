/* passwd.c — see passwd.h.
 *
 * Why this is safe: /run/jai/<user> is root-owned and writable by nobody else (host.c checks it on the fd), so only
 * root creates or replaces `passwd` there; it is opened without following symlinks and checked root-owned, regular
 * and read-only on the fd. The copy is written to an unnamed O_TMPFILE and linked only once complete, so no reader
 * ever sees part of it, and linkat never replaces an existing name. /etc/passwd is opened with the user's
 * credentials (nothing the user could not read ends up in the copy) and must be a regular file (a FIFO would block
 * the helper). The values put into the sandbox account's record, home and shell, hold no ':' nor newline
 * (plan_parse), so the rewrite cannot add a field or a record. */
#include "passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "creds.h"
#include "die.h"
#include "path.h"

static void passwd_write(int fd, const char *buf, size_t len, const char *display)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("write(%s)", display);
		done += (size_t)n;
	}
}

/* Whether the line s[0..n) (without its newline) is a well-formed record (7 fields) named name; *keep is then the
 * length of its first five fields with their ':' (name:password:uid:gid:gecos:). */
static bool passwd_is_record(const char *s, size_t n, const char *name, size_t *keep)
{
	size_t nlen = strlen(name);
	size_t colons = 0, i;

	if (n <= nlen || memcmp(s, name, nlen) != 0 || s[nlen] != ':')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] != ':')
			continue;
		if (++colons == 5)
			*keep = i + 1;
	}
	return colons == 6;
}

/* Writes in[0..len) to fd with the sandbox account's records rewritten; returns how many were. */
static size_t passwd_rewrite(int fd, const char *in, size_t len, const struct plan *p, const char *display)
{
	size_t start = 0, flushed = 0, found = 0;

	while (start < len) {
		const char *nl = memchr(in + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - in) : len;
		size_t next = nl != NULL ? end + 1 : len;
		size_t keep = 0;

		if (passwd_is_record(in + start, end - start, p->sandbox_user, &keep)) {
			passwd_write(fd, in + flushed, start - flushed, display);
			passwd_write(fd, in + start, keep, display);
			passwd_write(fd, p->home, strlen(p->home), display);
			passwd_write(fd, ":", 1, display);
			passwd_write(fd, p->shell, strlen(p->shell), display);
			passwd_write(fd, "\n", 1, display);
			flushed = next;
			found++;
		}
		start = next;
	}
	passwd_write(fd, in + flushed, len - flushed, display);
	return found;
}

/* /etc/passwd, opened as the user, into buf (PASSWD_MAX + 1 bytes). Returns its length. */
static size_t passwd_read_etc(const struct plan *p, char *buf)
{
	struct stat st;
	size_t len = 0;
	int fd;

	creds_enter_user(p);
	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		die_errno("open(/etc/passwd) as %s", p->user);
	creds_leave_user();
	if (fstat(fd, &st) < 0)
		die_errno("fstat(/etc/passwd)");
	if (!S_ISREG(st.st_mode))
		die("/etc/passwd: not a regular file");
	for (;;) {
		ssize_t n = read(fd, buf + len, PASSWD_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read(/etc/passwd)");
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > PASSWD_MAX)
			die("/etc/passwd: larger than %u bytes", PASSWD_MAX);
	}
	if (close(fd) < 0)
		die_errno("close(/etc/passwd)");
	return len;
}

/* The existing copy (O_PATH), or -1 when there is none. */
static int passwd_open(int user_fd, const char *display)
{
	struct stat st;
	int fd = path_open_one(user_fd, "passwd", O_PATH);

	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0)
		die_errno("open(%s)", display);
	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s)", display);
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 07222) != 0)
		die("%s: owned by %u with mode %04o, should be a root-owned read-only regular file", display,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	return fd;
}

void passwd_prepare(const struct plan *p, struct host_state *h)
{
	char display[PLAN_MAX_USER + 32];
	size_t len, found;
	char *buf;
	int tmp;

	snprintf(display, sizeof display, "/run/jai/%s/passwd", p->user);
	h->passwd_fd = passwd_open(h->user_fd, display);
	if (h->passwd_fd >= 0)
		return;

	buf = malloc(PASSWD_MAX + 1);
	if (buf == NULL)
		die("malloc(%u) (/etc/passwd)", PASSWD_MAX + 1);
	len = passwd_read_etc(p, buf);
	tmp = openat(h->user_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
	if (tmp < 0)
		die_errno("open(/run/jai/%s, O_TMPFILE)", p->user);
	found = passwd_rewrite(tmp, buf, len, p, display);
	free(buf);
	if (found == 0)
		die_warn("/etc/passwd has no record of %s: the jail's copy has none either", p->sandbox_user);
	if (fchmod(tmp, 0444) < 0)
		die_errno("fchmod(%s, 0444)", display);
	/* Root holds CAP_DAC_READ_SEARCH, which AT_EMPTY_PATH needs. */
	if (linkat(tmp, "", h->user_fd, "passwd", AT_EMPTY_PATH) < 0)
		die_errno("linkat(%s)", display);
	if (close(tmp) < 0)
		die_errno("close(%s)", display);
	h->passwd_fd = passwd_open(h->user_fd, display);
	if (h->passwd_fd < 0)
		die_errno("open(%s) after creating it", display);
}
