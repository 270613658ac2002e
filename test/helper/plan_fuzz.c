/* plan_fuzz.c — a bounded random fuzz loop over plan_parse (native/helper/plan.c), meant to run under
 * -fsanitize=address,undefined (test/helper/run-plan-fuzz.sh builds and runs it).
 *
 * Inputs: valid seed plans mutated at the token level (replace, insert, delete, duplicate a NUL-separated string,
 * splice in dictionary tokens) and at the byte level (flip, insert, delete, truncate). Each input is copied into a
 * malloc'd buffer of exactly its size so that any read past the end is caught by ASan. For every accepted plan the
 * invariants the helper relies on are checked; for every refused one, the error message must be a non-empty line of
 * printable ASCII. Every prefix of the seeds must be refused. Seeds: three op run plans (one with script and
 * initjail, one in strict mode) and an op teardown of every jail; a teardown plan must carry none of the run keys,
 * a strict plan all of the sandbox account's keys (with ids neither root nor the user's, but the user's own
 * sandbox_id_base + uid within a range that ends at or below PLAN_MAX_SANDBOX_ID) and no mask, a casual or bare plan
 * none of them. Explicit cases (fuzz_cases) check the network, cgroup and sandbox id keys' accepted and refused
 * values first.
 *
 *   plan_fuzz [ITERATIONS [SEED]]     exit 0 when no invariant broke (sanitizer reports abort the run)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"

#define FUZZ_MAX_TOKENS 512
#define FUZZ_MAX_BYTES (PLAN_MAX_BYTES + 4096)

static uint64_t fuzz_state;

static uint64_t fuzz_rand(void)
{
	/* xorshift64* */
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return fuzz_state * 2685821657736338717ULL;
}

static size_t fuzz_below(size_t n)
{
	return n == 0 ? 0 : (size_t)(fuzz_rand() % n);
}

static const char *const fuzz_seed_a[] = {
	"op", "run", "mode", "casual", "user", "alice", "uid", "1000", "gid", "1000", "group", "1000", "group", "27",
	"home", "/home/alice", "jail", "default", "storage", "/home/alice/.jai", "config_dir", "/home/alice/.jai",
	"cwd", "/home/alice/proj", "grant", "cwd:4:/home/alice/proj", "grant", "ro:5:/home/alice/ref",
	"grant", "rw:6:/home/alice/proj/sub", "mask", ".ssh", "mask", ".config/gh", "argv", "bash", "argv", "-c",
	"argv", "echo hi", "env", "PATH=/usr/bin:/bin", "env", "TERM=xterm", "env", "EMPTY=", "umask", "022",
	"stdin", "pty", "stdout", "pty", "stderr", "fd:7", "pty_rows", "24", "pty_cols", "80", "status_fd", "3",
	"script", "echo hi\n\001\377", "initjail", "/home/alice/bin/init-jail", "network", "loopback", "userns", "allow", "keyring", "deny",
	"go", "wait", "cgroup", "/sys/fs/cgroup/memory/jai/alice-1", "cgroup", "/sys/fs/cgroup/pids/jai/alice-1",
};

static const char *const fuzz_seed_b[] = {
	"status_fd", "3", "stderr", "null", "stdout", "fd:9", "stdin", "null", "umask", "0", "argv", "/bin/true",
	"cwd", "/", "config_dir", "/etc/jai-cfg", "storage", "/var/jai/bob", "jail", "a-b_c.d", "home", "/h/bob",
	"gid", "4294967294", "uid", "65534", "user", "bob_1", "mode", "casual", "op", "run",
};

/* op run in strict mode: the sandbox account (dave's own ids: the default base 0x70000000 + 1002) and the user's
 * shell. */
static const char *const fuzz_seed_d[] = {
	"op", "run", "mode", "strict", "user", "dave", "uid", "1002", "gid", "1002", "home", "/home/dave",
	"sandbox_user", "jai", "sandbox_uid", "1879049194", "sandbox_gid", "1879049194", "sandbox_id_base",
	"1879048192", "sandbox_id_count", "268435456", "shell", "/bin/bash", "jail", "default",
	"storage", "/home/dave/.jai", "config_dir", "/home/dave/.jai", "cwd", "/home/dave/proj",
	"grant", "cwd:4:/home/dave/proj", "argv", "sh", "umask", "022", "stdin", "null", "stdout", "fd:5",
	"stderr", "fd:6", "status_fd", "3", "initjail", "/home/dave/bin/init", "network", "none",
	"cgroup", "/sys/fs/cgroup/jai.slice/dave-7", "cgroup", "/sys/fs/cgroup/memory/d", "cgroup", "/sys/fs/cgroup/pids/d",
	"cgroup", "/sys/fs/cgroup/cpu/d",
};

/* op run in strict mode without the sandbox ids and their range (the explicit cases add them). */
static const char *const fuzz_seed_e[] = {
	"op", "run", "mode", "strict", "user", "erin", "uid", "1002", "gid", "1002", "group", "1002", "group", "27",
	"home", "/home/erin", "sandbox_user", "jai", "shell", "/bin/sh", "jail", "default", "storage", "/home/erin/.jai",
	"config_dir", "/home/erin/.jai", "cwd", "/", "argv", "sh", "umask", "022", "stdin", "null", "stdout", "null",
	"stderr", "null", "status_fd", "3",
};

/* op teardown of every jail (no jail key), keys in an unusual order. */
static const char *const fuzz_seed_c[] = {
	"status_fd", "3", "storage", "/home/carol/.jai", "home", "/home/carol", "gid", "1001", "uid", "1001",
	"group", "1001", "user", "carol", "mode", "strict", "op", "teardown",
};

static const char *const fuzz_dict[] = {
	"op", "mode", "user", "uid", "gid", "group", "home", "jail", "storage", "config_dir", "cwd", "grant", "mask",
	"argv", "env", "umask", "stdin", "stdout", "stderr", "pty_rows", "pty_cols", "status_fd", "end", "jai-plan-1",
	"run", "casual", "strict", "bare", "0", "1", "3", "4", "00", "01", "4294967295", "4294967294", "4294967296",
	"99999999999", "-1", "+1", " 1", "65535", "65536", "0777", "0778", "01777", "pty", "null", "fd:", "fd:3",
	"fd:4", "fd:2", "fd:01", "fd:2147483648", "/", "//", "/a", "/a/", "/a/./b", "/a/../b", "/a//b", "..", ".",
	"a/b", "../x", ".x", "-x", "x\001y", "cwd:4:/x", "rw:5:/x", "ro:6:/x/y", "cwd:3:/x", "rw:4:/", "rw::/x",
	"rw:4:", "xx:4:/x", "cwd:4:x", "=x", "A=", "A=b", "A", "", "\xff\xfe", "%s%n%x",
	"script", "initjail", "teardown", "JAI_SCRIPT=/x", "JAI_SCRIPT", "JAI_SCRIPTX=1", "JAI_SCRIP=1", "/bin/sh",
	"init", "#!/bin/sh\nexit 0\n", "sandbox_user", "sandbox_uid", "sandbox_gid", "shell", "jai", "999", "995",
	"1002", "sandbox_id_base", "sandbox_id_count", "1879048192", "268435456", "1879049194", "1879049195",
	"2147483647", "2147483648", "268435457", "/bin/a:b", "/bin/a\nb", "/usr/sbin/nologin", "/home/a:b", "network",
	"cgroup", "host", "loopback", "none", "Host", "loopback ", "/sys/fs/cgroup", "/sys/fs/cgroup/",
	"/sys/fs/cgroup/x", "/sys/fs/cgroupx/a", "/sys/fs/cgroup/../etc", "/sys/fs/cgroup/a/./b", "/sys/fs/cgroup//a",
	"/sys/fs/cgroup/a/", "sys/fs/cgroup/a", "/sys/fs/cgroup/memory/jai/alice-1", "userns", "allow", "deny", "Allow",
	"allow ", "keyring", "go", "wait", "Wait", "wait ",
};

struct fuzz_tokens {
	size_t n;
	const char *s[FUZZ_MAX_TOKENS];
	size_t len[FUZZ_MAX_TOKENS];
};

static char fuzz_scratch[FUZZ_MAX_TOKENS][256];

static void fuzz_tokens_seed(struct fuzz_tokens *t, const char *const *seed, size_t n)
{
	size_t i;

	t->n = 0;
	t->s[t->n] = "jai-plan-1";
	t->len[t->n++] = strlen("jai-plan-1");
	for (i = 0; i < n; i++) {
		t->s[t->n] = seed[i];
		t->len[t->n++] = strlen(seed[i]);
	}
	t->s[t->n] = "end";
	t->len[t->n++] = 3;
}

static const char *fuzz_pick_token(size_t *len, size_t slot)
{
	const char *s;

	switch (fuzz_below(4)) {
	case 0: {
		/* A long run of one byte: bounds on value and path lengths. */
		static char big[PLAN_MAX_VALUE + 16];
		size_t n = (size_t[]){ PLAN_MAX_PATH, PLAN_MAX_PATH + 1, PLAN_MAX_VALUE, PLAN_MAX_VALUE + 1, 64, 65, 255,
				       256 }[fuzz_below(8)];

		memset(big, "a/x."[fuzz_below(4)], n);
		big[0] = fuzz_below(2) ? '/' : 'a';
		*len = n;
		return big;
	}
	case 1: {
		/* Random bytes (no NUL: that would split the token). */
		size_t n = fuzz_below(40), i;

		for (i = 0; i < n; i++)
			fuzz_scratch[slot][i] = (char)(1 + fuzz_below(255));
		*len = n;
		return fuzz_scratch[slot];
	}
	default:
		s = fuzz_dict[fuzz_below(sizeof fuzz_dict / sizeof fuzz_dict[0])];
		*len = strlen(s);
		return s;
	}
}

static void fuzz_mutate_tokens(struct fuzz_tokens *t)
{
	size_t rounds = 1 + fuzz_below(4), r;

	for (r = 0; r < rounds; r++) {
		size_t i = fuzz_below(t->n);

		switch (fuzz_below(5)) {
		case 0: /* replace */
			t->s[i] = fuzz_pick_token(&t->len[i], i);
			break;
		case 1: /* insert */
			if (t->n < FUZZ_MAX_TOKENS) {
				memmove(&t->s[i + 1], &t->s[i], (t->n - i) * sizeof t->s[0]);
				memmove(&t->len[i + 1], &t->len[i], (t->n - i) * sizeof t->len[0]);
				t->s[i] = fuzz_pick_token(&t->len[i], i);
				t->n++;
			}
			break;
		case 2: /* delete */
			if (t->n > 1) {
				memmove(&t->s[i], &t->s[i + 1], (t->n - i - 1) * sizeof t->s[0]);
				memmove(&t->len[i], &t->len[i + 1], (t->n - i - 1) * sizeof t->len[0]);
				t->n--;
			}
			break;
		case 3: { /* duplicate a key/value pair many times: count caps */
			size_t times = fuzz_below(2) ? 1 : 70 + fuzz_below(300), k;

			if (i + 1 >= t->n)
				break;
			for (k = 0; k < times && t->n + 2 < FUZZ_MAX_TOKENS; k++) {
				memmove(&t->s[i + 2], &t->s[i], (t->n - i) * sizeof t->s[0]);
				memmove(&t->len[i + 2], &t->len[i], (t->n - i) * sizeof t->len[0]);
				t->n += 2;
			}
			break;
		}
		default: { /* swap */
			size_t j = fuzz_below(t->n);
			const char *s = t->s[i];
			size_t l = t->len[i];

			t->s[i] = t->s[j];
			t->len[i] = t->len[j];
			t->s[j] = s;
			t->len[j] = l;
			break;
		}
		}
	}
}

static size_t fuzz_serialise(const struct fuzz_tokens *t, char *buf, size_t max)
{
	size_t o = 0, i;

	for (i = 0; i < t->n; i++) {
		if (o + t->len[i] + 1 > max)
			break;
		memcpy(buf + o, t->s[i], t->len[i]);
		o += t->len[i];
		buf[o++] = '\0';
	}
	return o;
}

static void fuzz_mutate_bytes(char *buf, size_t *len, size_t max)
{
	size_t rounds = 1 + fuzz_below(3), r;

	for (r = 0; r < rounds; r++) {
		size_t i = fuzz_below(*len + 1);

		switch (fuzz_below(5)) {
		case 0:
			if (i < *len)
				buf[i] ^= (char)(1u << fuzz_below(8));
			break;
		case 1:
			if (*len < max) {
				memmove(buf + i + 1, buf + i, *len - i);
				buf[i] = (char)fuzz_below(256);
				(*len)++;
			}
			break;
		case 2:
			if (i < *len) {
				memmove(buf + i, buf + i + 1, *len - i - 1);
				(*len)--;
			}
			break;
		case 3:
			*len = i;
			break;
		default:
			if (i < *len)
				buf[i] = '\0';
			break;
		}
	}
}

static int fuzz_failures;

static void fuzz_fail(const char *why, const char *buf, size_t len)
{
	fprintf(stderr, "plan_fuzz: invariant broken: %s (input of %zu bytes)\n", why, len);
	fwrite(buf, 1, len > 2000 ? 2000 : len, stderr);
	fputc('\n', stderr);
	fuzz_failures++;
}

static int fuzz_in(const char *p, const char *buf, size_t len)
{
	return p >= buf && p < buf + len && memchr(p, '\0', (size_t)(buf + len - p)) != NULL;
}

static int fuzz_abs_canonical(const char *p, int allow_root)
{
	size_t n = strlen(p);

	if (p[0] != '/' || n > PLAN_MAX_PATH)
		return 0;
	if (n == 1)
		return allow_root;
	if (p[n - 1] == '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
		return 0;
	if ((n >= 2 && strcmp(p + n - 2, "/.") == 0) || (n >= 3 && strcmp(p + n - 3, "/..") == 0))
		return 0;
	return 1;
}

/* An accepted op teardown: none of the run keys' fields set; a jail, when given, valid. */
static void fuzz_check_teardown(const struct plan *p, const char *buf, size_t len)
{
	size_t i;

	if (p->argc != 0 || p->argv[0] != NULL || p->nenv != 0 || p->env[0] != NULL || p->ngrants != 0 ||
	    p->nmasks != 0 || p->cwd != NULL || p->config_dir != NULL || p->script != NULL || p->initjail != NULL ||
	    p->uses_pty || p->has_winsize || p->sandbox_user != NULL || p->shell != NULL || p->sandbox_uid != 0 ||
	    p->sandbox_gid != 0 || p->sandbox_id_base != 0 || p->sandbox_id_count != 0 || p->has_cwd_grant ||
	    p->network != PLAN_NET_HOST || p->ncgroups != 0 || p->allow_userns || !p->allow_keyring || p->await_go)
		fuzz_fail("teardown plan with run keys", buf, len);
	for (i = 0; i < 3; i++)
		if (p->stdio[i].kind != PLAN_STDIO_NULL || p->stdio[i].fd != -1)
			fuzz_fail("teardown plan with stdio", buf, len);
	if (p->jail != NULL && (!fuzz_in(p->jail, buf, len) || p->jail[0] == '.' || p->jail[0] == '\0' ||
				strlen(p->jail) > PLAN_MAX_JAIL))
		fuzz_fail("teardown jail name", buf, len);
	if (p->mode != PLAN_MODE_CASUAL && p->mode != PLAN_MODE_STRICT && p->mode != PLAN_MODE_BARE)
		fuzz_fail("teardown mode", buf, len);
	if (!fuzz_abs_canonical(p->home, 0) || !fuzz_abs_canonical(p->storage, 0))
		fuzz_fail("teardown path not absolute and canonical", buf, len);
	if (p->uid == 0 || p->gid == 0 || p->uid == (uid_t)-1 || p->gid == (gid_t)-1)
		fuzz_fail("root or invalid id accepted", buf, len);
	if (p->status_fd != PLAN_STATUS_FD)
		fuzz_fail("status fd", buf, len);
}

static void fuzz_check_accepted(const struct plan *p, const char *buf, size_t len)
{
	int fds[PLAN_MAX_GRANTS + 8];
	size_t nfds, i, j;

	if (p->op == PLAN_OP_TEARDOWN) {
		fuzz_check_teardown(p, buf, len);
		return;
	}
	if (p->op != PLAN_OP_RUN ||
	    (p->mode != PLAN_MODE_CASUAL && p->mode != PLAN_MODE_STRICT && p->mode != PLAN_MODE_BARE))
		fuzz_fail("run plan: op or mode", buf, len);
	if (p->mode == PLAN_MODE_STRICT) {
		if (p->sandbox_user == NULL || p->shell == NULL || !fuzz_in(p->sandbox_user, buf, len) ||
		    !fuzz_in(p->shell, buf, len))
			fuzz_fail("strict plan without the sandbox account or shell", buf, len);
		else if (p->sandbox_user[0] == '\0' || p->sandbox_user[0] == '.' || p->sandbox_user[0] == '-' ||
			 strspn(p->sandbox_user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
				 strlen(p->sandbox_user))
			fuzz_fail("sandbox user name", buf, len);
		if (p->sandbox_uid == 0 || p->sandbox_gid == 0 || p->sandbox_uid == (uid_t)-1 ||
		    p->sandbox_gid == (gid_t)-1 || p->sandbox_uid == p->uid || p->sandbox_gid == p->gid)
			fuzz_fail("sandbox ids root, invalid or the user's", buf, len);
		if (p->sandbox_id_base < PLAN_MIN_SANDBOX_ID_BASE || p->sandbox_id_count == 0 ||
		    (uint64_t)p->sandbox_id_base + p->sandbox_id_count - 1 > PLAN_MAX_SANDBOX_ID ||
		    (uint64_t)p->uid >= p->sandbox_id_count)
			fuzz_fail("sandbox id range out of bounds, or the uid outside it", buf, len);
		if ((uint64_t)p->sandbox_uid != (uint64_t)p->sandbox_id_base + p->uid ||
		    (uint64_t)p->sandbox_gid != (uint64_t)p->sandbox_id_base + p->uid)
			fuzz_fail("sandbox ids not the user's own (base + uid)", buf, len);
		for (i = 0; i < p->ngroups; i++)
			if (p->groups[i] == p->sandbox_gid)
				fuzz_fail("sandbox gid one of the user's groups", buf, len);
		if (p->shell != NULL && ((p->shell[0] != '\0' && p->shell[0] != '/') || strpbrk(p->shell, ":\n")))
			fuzz_fail("shell not absolute or with ':' or newline", buf, len);
		if (strpbrk(p->home, ":\n"))
			fuzz_fail("strict home with ':' or newline", buf, len);
	} else if (p->sandbox_user != NULL || p->shell != NULL || p->sandbox_uid != 0 || p->sandbox_gid != 0 ||
		   p->sandbox_id_base != 0 || p->sandbox_id_count != 0) {
		fuzz_fail("sandbox account keys outside strict mode", buf, len);
	}
	if (p->mode != PLAN_MODE_CASUAL && p->nmasks != 0)
		fuzz_fail("masks outside casual mode", buf, len);
	for (i = 0, j = 0; i < p->ngrants; i++)
		if (p->grants[i].kind == PLAN_GRANT_CWD)
			j++;
	if (j > 1 || p->has_cwd_grant != (j == 1))
		fuzz_fail("cwd grant count or has_cwd_grant", buf, len);
	if (p->jail == NULL)
		fuzz_fail("run plan without a jail", buf, len);
	if (p->script != NULL && (!fuzz_in(p->script, buf, len) || strlen(p->script) != p->script_len ||
				  p->script_len > PLAN_MAX_VALUE))
		fuzz_fail("script outside the buffer, with a NUL or too long", buf, len);
	if (p->initjail != NULL && (!fuzz_in(p->initjail, buf, len) || !fuzz_abs_canonical(p->initjail, 0)))
		fuzz_fail("initjail path", buf, len);

	if (p->network != PLAN_NET_HOST && p->network != PLAN_NET_LOOPBACK && p->network != PLAN_NET_NONE)
		fuzz_fail("network", buf, len);
	if (p->ncgroups > PLAN_MAX_CGROUPS)
		fuzz_fail("more cgroups than the cap", buf, len);
	for (i = 0; i < p->ncgroups; i++) {
		const char *c = p->cgroups[i];

		if (!fuzz_in(c, buf, len) || !fuzz_abs_canonical(c, 0) ||
		    strncmp(c, PLAN_CGROUP_ROOT, strlen(PLAN_CGROUP_ROOT)) != 0 || strlen(c) <= strlen(PLAN_CGROUP_ROOT))
			fuzz_fail("cgroup path not canonical below " PLAN_CGROUP_ROOT, buf, len);
		for (j = i + 1; j < p->ncgroups; j++)
			if (strcmp(c, p->cgroups[j]) == 0)
				fuzz_fail("cgroup named twice", buf, len);
	}
	if (p->argc < 1 || p->argc > PLAN_MAX_ARGV || p->argv[p->argc] != NULL)
		fuzz_fail("argv count/termination", buf, len);
	for (i = 0; i < p->argc; i++)
		if (!fuzz_in(p->argv[i], buf, len) || strlen(p->argv[i]) > PLAN_MAX_VALUE)
			fuzz_fail("argv outside the buffer or too long", buf, len);
	if (p->argv[0][0] == '\0')
		fuzz_fail("empty argv[0]", buf, len);
	if (p->nenv > PLAN_MAX_ENV || p->env[p->nenv] != NULL)
		fuzz_fail("env count/termination", buf, len);
	for (i = 0; i < p->nenv; i++) {
		if (!fuzz_in(p->env[i], buf, len) || p->env[i][0] == '=' || strchr(p->env[i], '=') == NULL)
			fuzz_fail("env entry", buf, len);
		if (strncmp(p->env[i], PLAN_SCRIPT_ENV "=", sizeof PLAN_SCRIPT_ENV) == 0)
			fuzz_fail("env sets JAI_SCRIPT", buf, len);
	}
	if (p->uid == 0 || p->gid == 0 || p->uid == (uid_t)-1 || p->gid == (gid_t)-1)
		fuzz_fail("root or invalid id accepted", buf, len);
	for (i = 0; i < p->ngroups; i++)
		if (p->groups[i] == 0)
			fuzz_fail("group 0 accepted", buf, len);
	if (!fuzz_in(p->user, buf, len) || p->user[0] == '.' || p->user[0] == '-' || strlen(p->user) > PLAN_MAX_USER ||
	    strspn(p->user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(p->user))
		fuzz_fail("user name", buf, len);
	if (!fuzz_in(p->jail, buf, len) || p->jail[0] == '.' || p->jail[0] == '\0' || strlen(p->jail) > PLAN_MAX_JAIL ||
	    strspn(p->jail, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(p->jail))
		fuzz_fail("jail name", buf, len);
	if (!fuzz_abs_canonical(p->home, 0) || !fuzz_abs_canonical(p->storage, 0) ||
	    !fuzz_abs_canonical(p->config_dir, 0) || !fuzz_abs_canonical(p->cwd, 1))
		fuzz_fail("path not absolute and canonical", buf, len);
	for (i = 0; i < p->nmasks; i++) {
		const char *m = p->masks[i];

		if (!fuzz_in(m, buf, len) || m[0] == '/' || m[0] == '\0' || strcmp(m, "..") == 0 ||
		    strncmp(m, "../", 3) == 0 || strstr(m, "/../") || strstr(m, "//") ||
		    (strlen(m) >= 3 && strcmp(m + strlen(m) - 3, "/..") == 0))
			fuzz_fail("mask escapes", buf, len);
	}
	for (i = 0; i < p->ngrants; i++) {
		if (!fuzz_in(p->grants[i].path, buf, len) || !fuzz_abs_canonical(p->grants[i].path, 0))
			fuzz_fail("grant path", buf, len);
		if (i > 0 && strcmp(p->grants[i - 1].path, p->grants[i].path) >= 0)
			fuzz_fail("grants not sorted or duplicated", buf, len);
	}
	if (p->umask > 0777)
		fuzz_fail("umask", buf, len);
	if (p->status_fd != PLAN_STATUS_FD)
		fuzz_fail("status fd", buf, len);
	if (p->uses_pty && (!p->has_winsize || p->pty_rows == 0 || p->pty_cols == 0))
		fuzz_fail("pty without window size", buf, len);
	nfds = plan_fds(p, fds, sizeof fds / sizeof fds[0]);
	for (i = 0; i < nfds; i++) {
		if (fds[i] < 3)
			fuzz_fail("fd below 3", buf, len);
		for (j = i + 1; j < nfds; j++)
			if (fds[i] == fds[j])
				fuzz_fail("fd named twice", buf, len);
	}
}

static void fuzz_check_error(const char *err, const char *buf, size_t len)
{
	size_t i, n = strlen(err);

	if (n == 0)
		fuzz_fail("refused without a message", buf, len);
	for (i = 0; i < n; i++)
		if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] > 0x7e)
			fuzz_fail("unprintable byte in the error message", buf, len);
}

static struct plan fuzz_plan;

/* One parse of exactly len bytes in a buffer of exactly that size. Returns plan_parse's result. */
static int fuzz_one(const char *data, size_t len)
{
	char err[PLAN_ERR_MAX];
	char *copy = malloc(len ? len : 1);
	int r;

	if (copy == NULL) {
		perror("malloc");
		exit(2);
	}
	memcpy(copy, data, len);
	/* Not zero: plan_parse leaves argv and env beyond their counts as they were, so a read past them must not find
	 * a harmless NULL. */
	memset(&fuzz_plan, 0xa5, sizeof fuzz_plan);
	r = plan_parse(copy, len, &fuzz_plan, err, sizeof err);
	if (r == 0)
		fuzz_check_accepted(&fuzz_plan, copy, len);
	else if (r == -1)
		fuzz_check_error(err, copy, len);
	else
		fuzz_fail("plan_parse returned neither 0 nor -1", copy, len);
	free(copy);
	return r;
}

/* "/sys/fs/cgroup/aaa…" of PLAN_MAX_PATH and of PLAN_MAX_PATH + 1 bytes (filled in by fuzz_run_cases). */
static char fuzz_cgroup_max[PLAN_MAX_PATH + 1];
static char fuzz_cgroup_over[PLAN_MAX_PATH + 2];

/* Explicit cases: seed B (op run, casual), seed C (op teardown) or seed E (op run, strict, without the sandbox ids)
 * with extra key/value pairs before end. */
enum fuzz_case_seed { FUZZ_SEED_B, FUZZ_SEED_C, FUZZ_SEED_E };
struct fuzz_case {
	const char *name;
	enum fuzz_case_seed seed;
	const char *extra[12]; /* key, value, …, NULL */
	const char *expect;    /* NULL: accepted (then network and ncgroups are checked); else in the error */
	enum plan_network network;
	size_t ncgroups;
};

#define CG "/sys/fs/cgroup/"
#define ACCEPT(name, net, ncg, ...) { name, FUZZ_SEED_B, { __VA_ARGS__, NULL }, NULL, net, ncg }
#define REFUSE(name, teardown, msg, ...) { name, teardown, { __VA_ARGS__, NULL }, msg, PLAN_NET_HOST, 0 }
#define STRICT_ACCEPT(name, ...) { name, FUZZ_SEED_E, { __VA_ARGS__, NULL }, NULL, PLAN_NET_HOST, 0 }
#define STRICT_REFUSE(name, msg, ...) { name, FUZZ_SEED_E, { __VA_ARGS__, NULL }, msg, PLAN_NET_HOST, 0 }
/* erin (uid 1002) with the default range: her own ids are 1879048192 + 1002. */
#define OWN_IDS "sandbox_uid", "1879049194", "sandbox_gid", "1879049194"
#define RANGE "sandbox_id_base", "1879048192", "sandbox_id_count", "268435456"
static const struct fuzz_case fuzz_cases[] = {
	{ "no network key: host", 0, { NULL }, NULL, PLAN_NET_HOST, 0 },
	ACCEPT("network host", PLAN_NET_HOST, 0, "network", "host"),
	ACCEPT("network loopback", PLAN_NET_LOOPBACK, 0, "network", "loopback"),
	ACCEPT("network none", PLAN_NET_NONE, 0, "network", "none"),
	REFUSE("bad network value", 0, "network: invalid value \"off\" (host, loopback or none)", "network", "off"),
	REFUSE("empty network value", 0, "network: invalid value \"\"", "network", ""),
	REFUSE("repeated network", 0, "network: repeated", "network", "none", "network", "none"),
	REFUSE("network with op teardown", 1, "network: not allowed with op teardown", "network", "none"),
	ACCEPT("one cgroup", PLAN_NET_HOST, 1, "cgroup", CG "memory/jai/s1"),
	ACCEPT("4 cgroups", PLAN_NET_NONE, 4, "cgroup", CG "a", "cgroup", CG "b", "cgroup", CG "c", "cgroup", CG "d/e",
	       "network", "none"),
	REFUSE("5 cgroups", 0, "cgroup: more than 4", "cgroup", CG "a", "cgroup", CG "b", "cgroup", CG "c", "cgroup",
	       CG "d", "cgroup", CG "e"),
	REFUSE("cgroup outside /sys/fs/cgroup", 0,
	       "cgroup: not an absolute canonical path below /sys/fs/cgroup/: \"/tmp/cg\"", "cgroup", "/tmp/cg"),
	REFUSE("cgroup sharing only the prefix", 0, "cgroup: not an absolute", "cgroup", "/sys/fs/cgroupx/a"),
	REFUSE("cgroup: /sys/fs/cgroup itself", 0, "cgroup: not an absolute", "cgroup", "/sys/fs/cgroup"),
	REFUSE("cgroup: /sys/fs/cgroup/", 0, "cgroup: not an absolute", "cgroup", CG),
	REFUSE("cgroup with ..", 0, "cgroup: not an absolute", "cgroup", CG "../../../etc"),
	REFUSE("cgroup with .. inside", 0, "cgroup: not an absolute", "cgroup", CG "memory/../pids/x"),
	REFUSE("cgroup ending in ..", 0, "cgroup: not an absolute", "cgroup", CG "memory/x/.."),
	REFUSE("cgroup with .", 0, "cgroup: not an absolute", "cgroup", CG "./memory"),
	REFUSE("cgroup with //", 0, "cgroup: not an absolute", "cgroup", CG "memory//x"),
	REFUSE("cgroup with a trailing /", 0, "cgroup: not an absolute", "cgroup", CG "memory/x/"),
	REFUSE("cgroup relative", 0, "cgroup: not an absolute", "cgroup", "sys/fs/cgroup/memory"),
	REFUSE("cgroup named twice", 0, "cgroup: /sys/fs/cgroup/a is named twice", "cgroup", CG "a", "cgroup", CG "a"),
	REFUSE("cgroup with op teardown", 1, "cgroup: not allowed with op teardown", "cgroup", CG "a"),
	REFUSE("cgroup of PLAN_MAX_PATH + 1 bytes", 0, "cgroup: not an absolute", "cgroup", fuzz_cgroup_over),
	ACCEPT("cgroup of PLAN_MAX_PATH bytes", PLAN_NET_HOST, 1, "cgroup", fuzz_cgroup_max),
	ACCEPT("userns allow", PLAN_NET_HOST, 0, "userns", "allow"),
	ACCEPT("userns deny", PLAN_NET_HOST, 0, "userns", "deny"),
	REFUSE("bad userns value", FUZZ_SEED_B, "userns: invalid value \"yes\" (allow or deny)", "userns", "yes"),
	REFUSE("repeated userns", FUZZ_SEED_B, "userns: repeated", "userns", "deny", "userns", "allow"),
	REFUSE("userns with op teardown", FUZZ_SEED_C, "userns: not allowed with op teardown", "userns", "deny"),
	ACCEPT("keyring deny", PLAN_NET_HOST, 0, "keyring", "deny"),
	REFUSE("bad keyring value", FUZZ_SEED_B, "keyring: invalid value \"no\" (allow or deny)", "keyring", "no"),
	REFUSE("keyring with op teardown", FUZZ_SEED_C, "keyring: not allowed with op teardown", "keyring", "allow"),
	ACCEPT("go wait", PLAN_NET_HOST, 0, "go", "wait"),
	REFUSE("bad go value", FUZZ_SEED_B, "go: invalid value \"now\" (wait)", "go", "now"),
	REFUSE("repeated go", FUZZ_SEED_B, "go: repeated", "go", "wait", "go", "wait"),
	REFUSE("go with op teardown", FUZZ_SEED_C, "go: not allowed with op teardown", "go", "wait"),
	STRICT_ACCEPT("strict: the user's own ids, default range", OWN_IDS, RANGE),
	STRICT_ACCEPT("strict: a range ending at 2^31 - 1", "sandbox_uid", "2147483647", "sandbox_gid", "2147483647",
		      "sandbox_id_base", "2147482645", "sandbox_id_count", "1003"),
	STRICT_ACCEPT("strict: the lowest base", "sandbox_uid", "66538", "sandbox_gid", "66538", "sandbox_id_base",
		      "65536", "sandbox_id_count", "1003"),
	STRICT_REFUSE("strict: no range", "missing key sandbox_id_base", OWN_IDS),
	STRICT_REFUSE("strict: no count", "missing key sandbox_id_count", OWN_IDS, "sandbox_id_base", "1879048192"),
	STRICT_REFUSE("strict: the one jai uid of every user",
		      "sandbox_uid: 999 is not sandbox_id_base + uid (1879049194)", "sandbox_uid", "999", "sandbox_gid",
		      "995", RANGE),
	STRICT_REFUSE("strict: another user's uid", "sandbox_uid: 1879049195 is not sandbox_id_base + uid",
		      "sandbox_uid", "1879049195", "sandbox_gid", "1879049194", RANGE),
	STRICT_REFUSE("strict: another user's gid", "sandbox_gid: 1879049195 is not sandbox_id_base + uid",
		      "sandbox_uid", "1879049194", "sandbox_gid", "1879049195", RANGE),
	STRICT_REFUSE("strict: the uid beyond the range",
		      "uid: 1002 is outside the sandbox id range (sandbox_id_count 1002)", OWN_IDS, "sandbox_id_base",
		      "1879048192", "sandbox_id_count", "1002"),
	STRICT_REFUSE("strict: a range past 2^31 - 1", "sandbox_id_base 1879048192 + sandbox_id_count 268435457: past",
		      OWN_IDS, "sandbox_id_base", "1879048192", "sandbox_id_count", "268435457"),
	STRICT_REFUSE("strict: a base below 65536", "sandbox_id_base: invalid value \"65535\"", "sandbox_uid", "66537",
		      "sandbox_gid", "66537", "sandbox_id_base", "65535", "sandbox_id_count", "1003"),
	STRICT_REFUSE("strict: a base past 2^31 - 1", "sandbox_id_base: invalid value \"2147483648\"", OWN_IDS,
		      "sandbox_id_base", "2147483648", "sandbox_id_count", "1"),
	STRICT_REFUSE("strict: an empty range", "sandbox_id_count: invalid value \"0\"", OWN_IDS,
		      "sandbox_id_base", "1879048192", "sandbox_id_count", "0"),
	STRICT_REFUSE("strict: a base with a sign", "sandbox_id_base: invalid value \"+1879048192\"", OWN_IDS,
		      "sandbox_id_base", "+1879048192", "sandbox_id_count", "268435456"),
	STRICT_REFUSE("strict: the sandbox gid one of the user's groups",
		      "sandbox_gid: 1879049194 is one of the user's groups", OWN_IDS, RANGE, "group", "1879049194"),
	REFUSE("sandbox_id_base in casual mode", FUZZ_SEED_B, "sandbox_id_base: not allowed with mode casual",
	       "sandbox_id_base", "1879048192"),
	REFUSE("sandbox_id_count with op teardown", FUZZ_SEED_C, "sandbox_id_count: not allowed with op teardown",
	       "sandbox_id_count", "268435456"),
};
#undef ACCEPT
#undef REFUSE
#undef STRICT_ACCEPT
#undef STRICT_REFUSE
#undef OWN_IDS
#undef RANGE
#undef CG

static void fuzz_tokens_extra(struct fuzz_tokens *t, const char *const *extra)
{
	size_t i;

	t->n--; /* end */
	for (i = 0; extra[i] != NULL; i++) {
		t->s[t->n] = extra[i];
		t->len[t->n++] = strlen(extra[i]);
	}
	t->s[t->n] = "end";
	t->len[t->n++] = 3;
}

static char fuzz_case_buf[FUZZ_MAX_BYTES];
static struct fuzz_tokens fuzz_case_tokens;

/* Returns the number of cases that did not go as expected. */
static int fuzz_run_cases(void)
{
	int bad = 0;
	size_t c;

	memset(fuzz_cgroup_max, 'a', PLAN_MAX_PATH);
	memcpy(fuzz_cgroup_max, PLAN_CGROUP_ROOT, strlen(PLAN_CGROUP_ROOT));
	memset(fuzz_cgroup_over, 'a', PLAN_MAX_PATH + 1);
	memcpy(fuzz_cgroup_over, PLAN_CGROUP_ROOT, strlen(PLAN_CGROUP_ROOT));
	for (c = 0; c < sizeof fuzz_cases / sizeof fuzz_cases[0]; c++) {
		const struct fuzz_case *fc = &fuzz_cases[c];
		struct fuzz_tokens *t = &fuzz_case_tokens;
		char err[PLAN_ERR_MAX];
		size_t len;
		int r;

		if (fc->seed == FUZZ_SEED_C)
			fuzz_tokens_seed(t, fuzz_seed_c, sizeof fuzz_seed_c / sizeof fuzz_seed_c[0]);
		else if (fc->seed == FUZZ_SEED_E)
			fuzz_tokens_seed(t, fuzz_seed_e, sizeof fuzz_seed_e / sizeof fuzz_seed_e[0]);
		else
			fuzz_tokens_seed(t, fuzz_seed_b, sizeof fuzz_seed_b / sizeof fuzz_seed_b[0]);
		fuzz_tokens_extra(t, fc->extra);
		len = fuzz_serialise(t, fuzz_case_buf, sizeof fuzz_case_buf);
		r = plan_parse(fuzz_case_buf, len, &fuzz_plan, err, sizeof err);
		if (fc->expect == NULL && r != 0) {
			fprintf(stderr, "plan_fuzz: case \"%s\": refused: %s\n", fc->name, err);
			bad++;
		} else if (fc->expect == NULL && (fuzz_plan.network != fc->network || fuzz_plan.ncgroups != fc->ncgroups)) {
			fprintf(stderr, "plan_fuzz: case \"%s\": network %d, %zu cgroups\n", fc->name, (int)fuzz_plan.network,
				fuzz_plan.ncgroups);
			bad++;
		} else if (fc->expect != NULL && (r == 0 || strstr(err, fc->expect) == NULL)) {
			fprintf(stderr, "plan_fuzz: case \"%s\": %s, expected \"%s\"\n", fc->name,
				r == 0 ? "accepted" : err, fc->expect);
			bad++;
		}
		/* And through the fuzz invariants. */
		fuzz_one(fuzz_case_buf, len);
	}
	printf("plan_fuzz: %zu explicit cases, %d unexpected\n", sizeof fuzz_cases / sizeof fuzz_cases[0], bad);
	return bad;
}

int main(int argc, char **argv)
{
	static char buf[FUZZ_MAX_BYTES];
	static struct fuzz_tokens t;
	unsigned long long iterations = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
	unsigned long long seed = argc > 2 ? strtoull(argv[2], NULL, 10) : (unsigned long long)time(NULL);
	unsigned long long it, accepted = 0;
	size_t len, i;

	fuzz_state = seed ? seed : 1;
	printf("plan_fuzz: %llu iterations, seed %llu\n", iterations, seed);
	if (fuzz_run_cases() != 0)
		return 1;

	/* The seeds are valid; every proper prefix of them is not. */
	fuzz_tokens_seed(&t, fuzz_seed_a, sizeof fuzz_seed_a / sizeof fuzz_seed_a[0]);
	len = fuzz_serialise(&t, buf, sizeof buf);
	if (fuzz_one(buf, len) != 0) {
		char err[PLAN_ERR_MAX];

		plan_parse(buf, len, &fuzz_plan, err, sizeof err);
		fprintf(stderr, "plan_fuzz: seed A refused: %s\n", err);
		return 1;
	}
	for (i = 0; i < len; i++)
		if (fuzz_one(buf, i) == 0)
			fuzz_fail("a proper prefix of seed A was accepted", buf, i);
	fuzz_tokens_seed(&t, fuzz_seed_b, sizeof fuzz_seed_b / sizeof fuzz_seed_b[0]);
	len = fuzz_serialise(&t, buf, sizeof buf);
	if (fuzz_one(buf, len) != 0) {
		char err[PLAN_ERR_MAX];

		plan_parse(buf, len, &fuzz_plan, err, sizeof err);
		fprintf(stderr, "plan_fuzz: seed B refused: %s\n", err);
		return 1;
	}
	fuzz_tokens_seed(&t, fuzz_seed_d, sizeof fuzz_seed_d / sizeof fuzz_seed_d[0]);
	len = fuzz_serialise(&t, buf, sizeof buf);
	if (fuzz_one(buf, len) != 0 || fuzz_plan.mode != PLAN_MODE_STRICT || fuzz_plan.sandbox_uid != 1879049194u) {
		char err[PLAN_ERR_MAX];

		plan_parse(buf, len, &fuzz_plan, err, sizeof err);
		fprintf(stderr, "plan_fuzz: seed D refused or misread: %s\n", err);
		return 1;
	}
	for (i = 0; i < len; i++)
		if (fuzz_one(buf, i) == 0)
			fuzz_fail("a proper prefix of seed D was accepted", buf, i);
	fuzz_tokens_seed(&t, fuzz_seed_c, sizeof fuzz_seed_c / sizeof fuzz_seed_c[0]);
	len = fuzz_serialise(&t, buf, sizeof buf);
	if (fuzz_one(buf, len) != 0 || fuzz_plan.op != PLAN_OP_TEARDOWN || fuzz_plan.jail != NULL) {
		char err[PLAN_ERR_MAX];

		plan_parse(buf, len, &fuzz_plan, err, sizeof err);
		fprintf(stderr, "plan_fuzz: seed C refused or misread: %s\n", err);
		return 1;
	}
	for (i = 0; i < len; i++)
		if (fuzz_one(buf, i) == 0)
			fuzz_fail("a proper prefix of seed C was accepted", buf, i);

	for (it = 0; it < iterations && fuzz_failures == 0; it++) {
		switch (fuzz_below(4)) {
		case 0:
			fuzz_tokens_seed(&t, fuzz_seed_a, sizeof fuzz_seed_a / sizeof fuzz_seed_a[0]);
			break;
		case 1:
			fuzz_tokens_seed(&t, fuzz_seed_b, sizeof fuzz_seed_b / sizeof fuzz_seed_b[0]);
			break;
		case 2:
			fuzz_tokens_seed(&t, fuzz_seed_d, sizeof fuzz_seed_d / sizeof fuzz_seed_d[0]);
			break;
		default:
			fuzz_tokens_seed(&t, fuzz_seed_c, sizeof fuzz_seed_c / sizeof fuzz_seed_c[0]);
			break;
		}
		fuzz_mutate_tokens(&t);
		len = fuzz_serialise(&t, buf, sizeof buf);
		if (fuzz_below(3) == 0)
			fuzz_mutate_bytes(buf, &len, sizeof buf);
		if (fuzz_one(buf, len) == 0)
			accepted++;
	}
	printf("plan_fuzz: %llu inputs, %llu accepted, %d invariant failures\n", it, accepted, fuzz_failures);
	return fuzz_failures == 0 ? 0 : 1;
}
