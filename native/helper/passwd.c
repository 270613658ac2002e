/* passwd.c — see passwd.h.
 *
 * Why this is safe: /run/jai/<user> is root-owned and writable by nobody else (host.c checks it on the fd), so only
 * root creates or replaces `passwd` and `group` there; they are opened without following symlinks and checked
 * root-owned, regular and read-only on the fd. A copy is written to an unnamed O_TMPFILE and linked only once
 * complete, so no reader ever sees part of it, and linkat never replaces an existing name (a stale copy is unlinked
 * first, under the per-user lock; running jails keep their bind mount of the old file). /etc/passwd and /etc/group
 * are opened with the user's credentials (nothing the user could not read ends up in a copy) and must be regular
 * files (a FIFO would block the helper). The values put into the sandbox account's records — decimal ids, home and
 * shell — hold no ':' nor newline (plan_parse), so the rewrite cannot add a field or a record. A record of someone
 * else with the sandbox id refuses the session: the jail would show that name for the sandbox's files. */
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

/* A copy may be larger than its source (the rewritten records' home and shell): read up to this size. */
#define PASSWD_COPY_MAX (2u * PASSWD_MAX)
/* The most fields a record has (passwd: 7). */
#define PASSWD_MAX_FIELDS 7u

/* One of the two databases strict mode copies: /etc/<name> → /run/jai/<user>/<name>. */
struct passwd_db {
	const char *name;
	size_t fields;  /* passwd: name:password:uid:gid:gecos:home:shell; group: name:password:gid:members */
	size_t id_field; /* the field holding the id the sandbox's must not clash with (uid; gid) */
	bool optional;  /* group: no /etc/group, no copy */
};

static const struct passwd_db passwd_db_passwd = { "passwd", 7, 2, false };
static const struct passwd_db passwd_db_group = { "group", 4, 2, true };

/* Where the rewrite goes: written to fd, or (fd -1) compared with expect[0..expect_len), the copy being checked. */
struct passwd_sink {
	int fd;
	const char *expect;
	size_t expect_len;
	size_t pos;
	bool differs;
	const char *display;
};

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

static void passwd_put(struct passwd_sink *s, const char *buf, size_t len)
{
	if (s->fd >= 0) {
		passwd_write(s->fd, buf, len, s->display);
		return;
	}
	if (s->differs)
		return;
	if (len > s->expect_len - s->pos || memcmp(s->expect + s->pos, buf, len) != 0) {
		s->differs = true;
		return;
	}
	s->pos += len;
}

static void passwd_put_str(struct passwd_sink *s, const char *str)
{
	passwd_put(s, str, strlen(str));
}

/* Whether the line s[0..n) (without its newline) is a well-formed record of db (exactly db->fields fields); then
 * colon[i] is the offset of the ':' ending field i. */
static bool passwd_split(const char *s, size_t n, const struct passwd_db *db, size_t *colon)
{
	size_t colons = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] != ':')
			continue;
		if (colons == db->fields - 1)
			return false;
		colon[colons++] = i;
	}
	return colons == db->fields - 1 && n > 0 && s[0] != ':';
}

/* Whether field i of the record s[0..n) of db, split at colon, is value. */
static bool passwd_field_is(const char *s, size_t n, const size_t *colon, const struct passwd_db *db, size_t i,
			    const char *value)
{
	size_t start = i == 0 ? 0 : colon[i - 1] + 1;
	size_t end = i + 1 < db->fields ? colon[i] : n;
	size_t len = strlen(value);

	return end - start == len && memcmp(s + start, value, len) == 0;
}

/* The sandbox account's record, from the line s[0..n) split at colon: its name, password and (passwd) GECOS kept,
 * its ids replaced by the sandbox's and (passwd) its home and shell by the user's. */
static void passwd_put_record(struct passwd_sink *out, const char *s, size_t n, const size_t *colon,
			      const struct passwd_db *db, const struct plan *p)
{
	char uid[16], gid[16];

	snprintf(uid, sizeof uid, "%u", (unsigned)p->sandbox_uid);
	snprintf(gid, sizeof gid, "%u", (unsigned)p->sandbox_gid);
	passwd_put(out, s, colon[1] + 1); /* name:password: */
	if (db == &passwd_db_passwd) {
		passwd_put_str(out, uid);
		passwd_put_str(out, ":");
		passwd_put_str(out, gid);
		passwd_put(out, s + colon[3], colon[4] - colon[3] + 1); /* :gecos: */
		passwd_put_str(out, p->home);
		passwd_put_str(out, ":");
		passwd_put_str(out, p->shell);
	} else {
		passwd_put_str(out, gid);
		passwd_put(out, s + colon[2], n - colon[2]); /* :members */
	}
	passwd_put_str(out, "\n");
}

/* Puts in[0..len) to out with the sandbox account's records rewritten; returns how many were. *clash: another
 * record has the sandbox's id. A malformed line is copied as it is, never taken for a record. */
static size_t passwd_rewrite(struct passwd_sink *out, const char *in, size_t len, const struct passwd_db *db,
			     const struct plan *p, bool *clash)
{
	char id[16];
	size_t start = 0, flushed = 0, found = 0;

	snprintf(id, sizeof id, "%u", db == &passwd_db_passwd ? (unsigned)p->sandbox_uid : (unsigned)p->sandbox_gid);
	*clash = false;
	while (start < len) {
		const char *nl = memchr(in + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - in) : len;
		size_t next = nl != NULL ? end + 1 : len;
		size_t colon[PASSWD_MAX_FIELDS] = { 0 };
		const char *line = in + start;
		size_t n = end - start;

		if (passwd_split(line, n, db, colon)) {
			if (passwd_field_is(line, n, colon, db, 0, p->sandbox_user)) {
				passwd_put(out, in + flushed, start - flushed);
				passwd_put_record(out, line, n, colon, db, p);
				flushed = next;
				found++;
			} else if (passwd_field_is(line, n, colon, db, db->id_field, id)) {
				*clash = true;
			}
		}
		start = next;
	}
	passwd_put(out, in + flushed, len - flushed);
	return found;
}

/* Reads fd into buf (max + 1 bytes). Returns the length, or max + 1 when there is more than max. */
static size_t passwd_read(int fd, char *buf, size_t max, const char *display)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read(%s)", display);
		if (n == 0)
			return len;
		len += (size_t)n;
		if (len > max)
			return len;
	}
}

/* /etc/<db>, opened as the user, into buf (PASSWD_COPY_MAX + 1 bytes). Returns its length, or (size_t)-1 when an
 * optional database does not exist. */
static size_t passwd_read_etc(const struct plan *p, const struct passwd_db *db, char *buf)
{
	char path[32];
	struct stat st;
	size_t len;
	int fd, saved;

	snprintf(path, sizeof path, "/etc/%s", db->name);
	creds_enter_user(p);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	saved = errno;
	creds_leave_user();
	if (fd < 0 && saved == ENOENT && db->optional)
		return (size_t)-1;
	errno = saved;
	if (fd < 0)
		die_errno("open(%s) as %s", path, p->user);
	if (fstat(fd, &st) < 0)
		die_errno("fstat(%s)", path);
	if (!S_ISREG(st.st_mode))
		die("%s: not a regular file", path);
	len = passwd_read(fd, buf, PASSWD_MAX, path);
	if (len > PASSWD_MAX)
		die("%s: larger than %u bytes", path, PASSWD_MAX);
	if (close(fd) < 0)
		die_errno("close(%s)", path);
	return len;
}

/* The existing copy (O_RDONLY), or -1 when there is none. */
static int passwd_open(int user_fd, const struct passwd_db *db, const char *display)
{
	struct stat st;
	int fd = path_open_one(user_fd, db->name, O_RDONLY);

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

/* Whether the copy at fd is what this plan would make: rewriting it changes nothing (same ids, home and shell in
 * the sandbox account's records) and no other record has the sandbox's id. */
static bool passwd_is_current(int fd, const struct passwd_db *db, const struct plan *p, char *buf,
			      const char *display)
{
	struct passwd_sink check = { .fd = -1, .display = display };
	size_t len = passwd_read(fd, buf, PASSWD_COPY_MAX, display);
	bool clash;

	if (len > PASSWD_COPY_MAX)
		return false;
	check.expect = buf;
	check.expect_len = len;
	(void)passwd_rewrite(&check, buf, len, db, p, &clash);
	return !clash && !check.differs && check.pos == len;
}

/* The copy of db for this plan, made (or remade when stale); -1 when an optional database is absent. */
static int passwd_prepare_db(const struct plan *p, struct host_state *h, const struct passwd_db *db, char *buf)
{
	struct passwd_sink out = { .fd = -1 };
	char display[PLAN_MAX_USER + 32];
	size_t len, found;
	bool clash;
	int fd;

	snprintf(display, sizeof display, "/run/jai/%s/%s", p->user, db->name);
	out.display = display;
	fd = passwd_open(h->user_fd, db, display);
	if (fd >= 0) {
		if (passwd_is_current(fd, db, p, buf, display))
			return fd;
		/* Made for other ids (another --sandbox-id-base, or before per-user ids), home or shell. */
		if (close(fd) < 0)
			die_errno("close(%s)", display);
		if (unlinkat(h->user_fd, db->name, 0) < 0 && errno != ENOENT)
			die_errno("unlink(%s)", display);
	}

	len = passwd_read_etc(p, db, buf);
	if (len == (size_t)-1)
		return -1;
	out.fd = openat(h->user_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
	if (out.fd < 0)
		die_errno("open(/run/jai/%s, O_TMPFILE)", p->user);
	found = passwd_rewrite(&out, buf, len, db, p, &clash);
	if (clash)
		die_code(DIE_REFUSED, "/etc/%s: the sandbox id %u of %s is taken by another entry", db->name,
			 db == &passwd_db_passwd ? (unsigned)p->sandbox_uid : (unsigned)p->sandbox_gid, p->user);
	if (found == 0)
		die_warn("/etc/%s has no record of %s: the jail's copy has none either", db->name, p->sandbox_user);
	if (fchmod(out.fd, 0444) < 0)
		die_errno("fchmod(%s, 0444)", display);
	/* Root holds CAP_DAC_READ_SEARCH, which AT_EMPTY_PATH needs. */
	if (linkat(out.fd, "", h->user_fd, db->name, AT_EMPTY_PATH) < 0)
		die_errno("linkat(%s)", display);
	if (close(out.fd) < 0)
		die_errno("close(%s)", display);
	fd = passwd_open(h->user_fd, db, display);
	if (fd < 0)
		die_errno("open(%s) after creating it", display);
	return fd;
}

void passwd_prepare(const struct plan *p, struct host_state *h)
{
	char *buf = malloc(PASSWD_COPY_MAX + 1);

	if (buf == NULL)
		die("malloc(%u) (passwd copies)", PASSWD_COPY_MAX + 1);
	h->passwd_fd = passwd_prepare_db(p, h, &passwd_db_passwd, buf);
	h->group_fd = passwd_prepare_db(p, h, &passwd_db_group, buf);
	free(buf);
}
