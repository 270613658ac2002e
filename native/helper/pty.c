/* pty.c — see pty.h.
 *
 * Why this is safe: the PTY comes from a devpts instance that exists only in this jail, so the jailed program sees
 * no other terminal, and TIOCSTI on it can only inject into its own input; the helper keeps no copy of the master. */
#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "creds.h"
#include "die.h"
#include "fdio.h"

#define PTY_GROUP_MAX (4u * 1024u * 1024u)
#define PTY_GROUP_MIN 4096u

gid_t pty_tty_gid(void)
{
	size_t len = 0, cap;
	gid_t gid = (gid_t)-1;
	const char *line;
	char *buf;
	struct stat st;
	int fd = open("/etc/group", O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		if (errno == ENOENT)
			return gid;
		die_errno("open(/etc/group)");
	}
	if (fstat(fd, &st) < 0)
		die_errno("fstat(/etc/group)");
	/* Sized to the file (a few KiB): a 4 MiB buffer is an mmap, a page fault and a munmap in every session. A file
	 * that grows meanwhile is read as far as this buffer goes, as one over the cap always was. */
	cap = st.st_size > 0 && (uintmax_t)st.st_size < PTY_GROUP_MAX ? (size_t)st.st_size : PTY_GROUP_MAX;
	if (cap < PTY_GROUP_MIN)
		cap = PTY_GROUP_MIN;
	buf = malloc(cap + 1);
	if (buf == NULL)
		die("malloc(%zu) (/etc/group)", cap + 1);
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read(/etc/group)");
		if (n == 0 || (len += (size_t)n) == cap)
			break;
	}
	if (close(fd) < 0)
		die_errno("close(/etc/group)");
	buf[len] = '\0';
	for (line = buf; *line != '\0';) {
		const char *nl = strchr(line, '\n');

		/* tty:x:5:members */
		if (strncmp(line, "tty:", 4) == 0) {
			const char *field = strchr(line + 4, ':');
			char *end;
			unsigned long v;

			if (field == NULL)
				break;
			errno = 0;
			v = strtoul(field + 1, &end, 10);
			if (errno == 0 && end != field + 1 && (*end == ':' || *end == '\n' || *end == '\0') &&
			    v > 0 && v < 0xffffffffUL)
				gid = (gid_t)v;
			break;
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	free(buf);
	return gid;
}

int pty_open(const struct plan *p, gid_t tty_gid)
{
	struct winsize ws = { .ws_row = p->pty_rows, .ws_col = p->pty_cols, .ws_xpixel = 0, .ws_ypixel = 0 };
	int unlock = 0;
	int master, slave;
	uid_t uid;
	gid_t gid;

	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die_errno("open(/dev/pts/ptmx) in the jail");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		die_errno("ioctl(ptmx, TIOCSPTLCK)");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		die_errno("ioctl(ptmx, TIOCGPTPEER)");
	/* The program's: strict mode's sandbox account, else the user. */
	uid = creds_uid(p, CREDS_SANDBOX);
	gid = tty_gid != (gid_t)-1 ? tty_gid : creds_gid(p, CREDS_SANDBOX);
	if (fchown(slave, uid, gid) < 0)
		die_errno("fchown(pty slave, %u, %u)", (unsigned)uid, (unsigned)gid);
	if (fchmod(slave, 0620) < 0)
		die_errno("fchmod(pty slave, 0620)");
	if (ioctl(master, TIOCSWINSZ, &ws) < 0)
		die_errno("ioctl(ptmx, TIOCSWINSZ, %ux%u)", (unsigned)p->pty_rows, (unsigned)p->pty_cols);
	if (fdio_send_fd(p->status_fd, "pty", master) < 0)
		die_errno("sendmsg(status, pty)");
	if (close(master) < 0)
		die_errno("close(ptmx)");
	return slave;
}
