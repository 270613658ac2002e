/* idmap.c — see idmap.h.
 *
 * Why this is safe: the namespace is created by the helper (root) and owned by root, and nothing ever runs in it: its
 * only process blocks on a pipe until it is killed, before the jail exists, and the helper keeps no other reference
 * than the fd it returns (closed once the clones are id-mapped; the mounts hold the namespace from then on). The maps
 * are written by root in the parent (initial) namespace, which the kernel requires for a multi-line map and which
 * makes `setgroups deny` unnecessary for gid_map. Outside the mapping U ⇄ J, every id maps to itself, so root stays
 * root (root-owned files stay root's) and the sandbox account's own on-disk files show as the overflow id: it cannot
 * be handed anything through these mounts that the user does not own. The child is reaped before the pid could be
 * reused, so /proc/PID is always that child. */
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

/* The last id a map may name: 2^32-1 is "no id". */
#define IDMAP_LAST 4294967294u

static size_t idmap_line(char *buf, size_t size, size_t o, uint32_t inside, uint32_t outside, uint32_t count)
{
	int n;

	if (count == 0)
		return o;
	n = snprintf(buf + o, size - o, "%u %u %u\n", inside, outside, count);
	if (n < 0 || (size_t)n >= size - o)
		die("internal error: id map longer than %zu bytes", size);
	return o + (size_t)n;
}

size_t idmap_format(char *buf, size_t size, uint32_t user, uint32_t sandbox)
{
	uint32_t lo = user < sandbox ? user : sandbox;
	uint32_t hi = user < sandbox ? sandbox : user;
	size_t o = 0;

	/* An id-mapped mount takes an on-disk id as an id inside the namespace and shows the id outside it (the
	 * kernel's make_vfsuid: map_id_down), and maps a creator's id the other way: so inside `user` ⇄ outside
	 * `sandbox`. Identity on [0, lo), (lo, hi), (hi, IDMAP_LAST]: inside `sandbox` and outside `user` stay unmapped. */
	o = idmap_line(buf, size, o, user, sandbox, 1);
	o = idmap_line(buf, size, o, 0, 0, lo);
	o = idmap_line(buf, size, o, lo + 1, lo + 1, hi - lo - 1);
	o = idmap_line(buf, size, o, hi + 1, hi + 1, IDMAP_LAST - hi);
	return o;
}

/* One write, as the kernel requires for a map file. */
static void idmap_write_map(pid_t child, const char *file, uint32_t user, uint32_t sandbox)
{
	char path[64], map[256];
	size_t len = idmap_format(map, sizeof map, user, sandbox);
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)child, file);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		die_errno("open(%s)", path);
	n = write(fd, map, len);
	if (n < 0)
		die_errno("write(%s) (outside %u as %u)", path, (unsigned)user, (unsigned)sandbox);
	if ((size_t)n != len)
		die("write(%s): short write (%zd of %zu bytes)", path, n, len);
	if (close(fd) < 0)
		die_errno("close(%s)", path);
}

/* The child: nothing but waiting for EOF (the helper closes the pipe, or dies). No die(): it has no status to
 * report, and is killed anyway. */
static _Noreturn void idmap_child(int wait_fd)
{
	char c;

	while (read(wait_fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

int idmap_userns(const struct plan *p)
{
	struct clone_args args;
	struct stat own, made;
	char path[64];
	int pipefd[2];
	pid_t child;
	int ns, status;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die_errno("pipe2 (id-map namespace)");
	memset(&args, 0, sizeof args);
	args.flags = CLONE_NEWUSER;
	args.exit_signal = SIGCHLD;
	child = (pid_t)syscall(SYS_clone3, &args, sizeof args);
	if (child < 0)
		die_errno("clone3(CLONE_NEWUSER)");
	if (child == 0) {
		/* Its own copy of the write end would keep the pipe from ever reaching EOF. Named so that nobody takes it
		 * for a session helper (jaid's leftover cleanup kills those). */
		if (close(pipefd[1]) < 0 || prctl(PR_SET_NAME, "jai-idmap", 0, 0, 0) < 0)
			_exit(1);
		idmap_child(pipefd[0]);
	}
	if (close(pipefd[0]) < 0)
		die_errno("close(id-map pipe)");

	idmap_write_map(child, "uid_map", p->uid, p->sandbox_uid);
	idmap_write_map(child, "gid_map", p->gid, p->sandbox_gid);
	snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		die_errno("open(%s)", path);
	/* A namespace of its own, not the helper's (the initial one, which MOUNT_ATTR_IDMAP refuses anyway). */
	if (stat("/proc/self/ns/user", &own) < 0)
		die_errno("stat(/proc/self/ns/user)");
	if (fstat(ns, &made) < 0)
		die_errno("fstat(%s)", path);
	if (made.st_dev == own.st_dev && made.st_ino == own.st_ino)
		die("%s: not a new user namespace", path);

	if (close(pipefd[1]) < 0)
		die_errno("close(id-map pipe)");
	if (kill(child, SIGKILL) < 0)
		die_errno("kill(id-map child %d, SIGKILL)", (int)child);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid(id-map child %d)", (int)child);
	return ns;
}
