/* creds.c — see creds.h.
 *
 * Why this is safe: the ids come from the plan, where none can be 0 (nor 2^32-1) and the sandbox's differ from the
 * user's; the sandbox scope and drop carry no supplementary group at all (strict mode's account must not inherit the
 * user's groups); every change is read back, and the final drop is checked irreversible before exec. */
#include "creds.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "die.h"

static bool creds_as_user;

/* Strict mode's sandbox is the untrusted account; otherwise the sandbox runs as the user. */
static bool creds_is_untrusted(const struct plan *p, enum creds_who who)
{
	return who == CREDS_SANDBOX && p->mode == PLAN_MODE_STRICT;
}

uid_t creds_uid(const struct plan *p, enum creds_who who)
{
	return creds_is_untrusted(p, who) ? p->sandbox_uid : p->uid;
}

gid_t creds_gid(const struct plan *p, enum creds_who who)
{
	return creds_is_untrusted(p, who) ? p->sandbox_gid : p->gid;
}

/* who's name and supplementary groups (none for the untrusted account). */
static const char *creds_groups(const struct plan *p, enum creds_who who, size_t *n, const gid_t **groups)
{
	if (creds_is_untrusted(p, who)) {
		*n = 0;
		*groups = NULL;
		return p->sandbox_user;
	}
	*n = p->ngroups;
	*groups = p->groups;
	return p->user;
}

void creds_enter(const struct plan *p, enum creds_who who)
{
	uid_t uid = creds_uid(p, who);
	gid_t gid = creds_gid(p, who);
	const gid_t *groups;
	size_t ngroups;
	const char *name = creds_groups(p, who, &ngroups, &groups);

	if (creds_as_user)
		die("internal error: nested user scope");
	if (setgroups(ngroups, groups) < 0)
		die_errno("setgroups(%zu groups of %s)", ngroups, name);
	/* setfsgid/setfsuid return the previous value and cannot report errors: read back with an invalid id. */
	setfsgid(gid);
	if ((gid_t)setfsgid((gid_t)-1) != gid)
		die("setfsgid(%u) did not take effect", (unsigned)gid);
	setfsuid(uid);
	if ((uid_t)setfsuid((uid_t)-1) != uid)
		die("setfsuid(%u) did not take effect", (unsigned)uid);
	creds_as_user = true;
}

void creds_enter_user(const struct plan *p)
{
	creds_enter(p, CREDS_USER);
}

void creds_leave_user(void)
{
	if (!creds_as_user)
		die("internal error: not in a user scope");
	setfsuid(0);
	if (setfsuid((uid_t)-1) != 0)
		die("setfsuid(0) did not take effect");
	setfsgid(0);
	if (setfsgid((gid_t)-1) != 0)
		die("setfsgid(0) did not take effect");
	if (setgroups(0, NULL) < 0)
		die_errno("setgroups(0)");
	creds_as_user = false;
}

static int creds_groups_count(void)
{
	int n = getgroups(0, NULL);

	if (n < 0)
		die_errno("getgroups");
	return n;
}

static unsigned long creds_cap_last_cap(void)
{
	char buf[32];
	ssize_t n;
	char *end;
	unsigned long last;
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die_errno("open(/proc/sys/kernel/cap_last_cap)");
	n = read(fd, buf, sizeof buf - 1);
	if (n < 0)
		die_errno("read(/proc/sys/kernel/cap_last_cap)");
	if (close(fd) < 0)
		die_errno("close(/proc/sys/kernel/cap_last_cap)");
	buf[n] = '\0';
	errno = 0;
	last = strtoul(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || last > 63)
		die("/proc/sys/kernel/cap_last_cap: unexpected content");
	return last;
}

static void creds_drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0, 0, 0 } };
	size_t i;

	if (syscall(SYS_capset, &hdr, data) < 0)
		die_errno("capset(empty)");
	if (syscall(SYS_capget, &hdr, data) < 0)
		die_errno("capget");
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			die("capabilities remain after dropping them");
}

void creds_drop_final(const struct plan *p, enum creds_who who)
{
	unsigned long last = creds_cap_last_cap();
	unsigned long cap;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	uid_t uid = creds_uid(p, who);
	gid_t gid = creds_gid(p, who);
	const gid_t *groups;
	size_t ngroups;
	const char *name = creds_groups(p, who, &ngroups, &groups);

	/* The bounding set needs CAP_SETPCAP, so it goes before setuid. */
	for (cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			die_errno("prctl(PR_CAPBSET_DROP, %lu)", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die_errno("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	if (setgroups(ngroups, groups) < 0)
		die_errno("setgroups(%zu groups of %s)", ngroups, name);
	if (setresgid(gid, gid, gid) < 0)
		die_errno("setresgid(%u)", (unsigned)gid);
	/* The kernel sets the memory's dumpability to fs.suid_dumpable when the effective uid changes; with 1 that would
	 * let the target's own processes ptrace (or open /proc/PID/mem of) this one from then on, even after a later
	 * PR_SET_DUMPABLE 0 — and PID 2 may run on init's memory until its exec (ns.c). So the effective uid goes first,
	 * while the real and saved uids are still root (no process of the target's may touch a process whose real or
	 * saved uid is another), dumpability is cleared, and only then do the other two follow: a change that keeps
	 * the effective and fs uids and only loses capabilities leaves dumpability as it is. */
	if (setresuid(0, uid, 0) < 0)
		die_errno("setresuid(0, %u, 0)", (unsigned)uid);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_DUMPABLE, 0)");
	if (setresuid(uid, uid, uid) < 0)
		die_errno("setresuid(%u)", (unsigned)uid);
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		die("dumpable after dropping to uid %u", (unsigned)uid);
	/* Irreversible: no way back to root, and every id is the target's. */
	if (setuid(0) == 0 || errno != EPERM)
		die("setuid(0) did not fail with EPERM after dropping to uid %u", (unsigned)uid);
	if (getresuid(&ruid, &euid, &suid) < 0)
		die_errno("getresuid");
	if (getresgid(&rgid, &egid, &sgid) < 0)
		die_errno("getresgid");
	if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid)
		die("credentials are not uid %u gid %u after the drop", (unsigned)uid, (unsigned)gid);
	if ((size_t)creds_groups_count() != ngroups)
		die("%d supplementary groups after the drop, expected %zu", creds_groups_count(), ngroups);
	/* setuid clears the capability sets unless securebits say otherwise: make sure whatever we inherited. */
	creds_drop_capabilities();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno("prctl(PR_SET_NO_NEW_PRIVS)");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		die("no_new_privs is not set");
}
