/* plan.c — parse and validate a `jai-plan-1` plan. No syscalls, no allocation: this is the fuzz target.
 *
 * Why this is safe: the buffer is walked with explicit bounds (memchr for each NUL within what is left), every
 * value is checked against its bound before it is looked at, counts are checked against the fixed arrays before a
 * write, and nothing is acted upon until the whole plan is accepted. Which keys an op and a mode take is one table
 * (plan_keys: allowed and required sets per op, per mode for op run), checked once the whole plan is in, whatever
 * the keys' order. */
#include "plan.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum plan_key {
	KEY_OP,
	KEY_MODE,
	KEY_USER,
	KEY_UID,
	KEY_GID,
	KEY_GROUP,
	KEY_HOME,
	KEY_SANDBOX_USER,
	KEY_SANDBOX_UID,
	KEY_SANDBOX_GID,
	KEY_SANDBOX_ID_BASE,
	KEY_SANDBOX_ID_COUNT,
	KEY_SHELL,
	KEY_JAIL,
	KEY_STORAGE,
	KEY_CONFIG_DIR,
	KEY_CWD,
	KEY_GRANT,
	KEY_MASK,
	KEY_ARGV,
	KEY_ENV,
	KEY_SCRIPT,
	KEY_INITJAIL,
	KEY_UMASK,
	KEY_NETWORK,
	KEY_CGROUP,
	KEY_USERNS,
	KEY_KEYRING,
	KEY_STDIN,
	KEY_STDOUT,
	KEY_STDERR,
	KEY_PTY_ROWS,
	KEY_PTY_COLS,
	KEY_STATUS_FD,
	KEY_GO,
	KEY_COUNT
};

/* Sets of operations, as bits. */
#define RUN (1u << PLAN_OP_RUN)
#define TEARDOWN (1u << PLAN_OP_TEARDOWN)
#define ANY_OP (RUN | TEARDOWN)

/* Sets of modes, as bits (op run only: a teardown takes every mode with the same keys). */
#define CASUAL (1u << PLAN_MODE_CASUAL)
#define STRICT (1u << PLAN_MODE_STRICT)
#define BARE (1u << PLAN_MODE_BARE)
#define ANY_MODE (CASUAL | STRICT | BARE)

struct plan_key_info {
	const char *name;
	size_t max;            /* cap on the count, whatever the op */
	unsigned int allowed;  /* ops the key may appear in */
	unsigned int required; /* ops the key must appear in (at least once) */
	unsigned int modes;    /* op run: the modes the key may appear in */
	unsigned int mode_required; /* op run: the modes the key must appear in */
};

/* Which key goes with which op and mode, explicitly: a key outside its op's allowed set is refused, so a teardown
 * plan can carry no argv, env, grant, stdio… and a run plan none of teardown's (it has none of its own); in op run,
 * a key outside its modes is refused too (masks are for casual overlays only, as upstream; the sandbox account and
 * shell are strict mode's). */
static const struct plan_key_info plan_keys[KEY_COUNT] = {
	/*                 name          cap               allowed  required  modes     mode_required */
	[KEY_OP] = { "op", 1, ANY_OP, ANY_OP, ANY_MODE, 0 },
	[KEY_MODE] = { "mode", 1, ANY_OP, ANY_OP, ANY_MODE, 0 },
	[KEY_USER] = { "user", 1, ANY_OP, ANY_OP, ANY_MODE, 0 },
	[KEY_UID] = { "uid", 1, ANY_OP, ANY_OP, ANY_MODE, 0 },
	[KEY_GID] = { "gid", 1, ANY_OP, ANY_OP, ANY_MODE, 0 },
	[KEY_GROUP] = { "group", PLAN_MAX_GROUPS, ANY_OP, 0, ANY_MODE, 0 },
	[KEY_HOME] = { "home", 1, ANY_OP, ANY_OP, ANY_MODE, 0 },
	[KEY_SANDBOX_USER] = { "sandbox_user", 1, RUN, 0, STRICT, STRICT },
	[KEY_SANDBOX_UID] = { "sandbox_uid", 1, RUN, 0, STRICT, STRICT },
	[KEY_SANDBOX_GID] = { "sandbox_gid", 1, RUN, 0, STRICT, STRICT },
	[KEY_SANDBOX_ID_BASE] = { "sandbox_id_base", 1, RUN, 0, STRICT, STRICT },
	[KEY_SANDBOX_ID_COUNT] = { "sandbox_id_count", 1, RUN, 0, STRICT, STRICT },
	[KEY_SHELL] = { "shell", 1, RUN, 0, STRICT, STRICT },
	[KEY_JAIL] = { "jail", 1, ANY_OP, RUN, ANY_MODE, 0 }, /* teardown: absent = every jail of the user */
	[KEY_STORAGE] = { "storage", 1, ANY_OP, ANY_OP, ANY_MODE, 0 },
	[KEY_CONFIG_DIR] = { "config_dir", 1, RUN, RUN, ANY_MODE, 0 },
	[KEY_CWD] = { "cwd", 1, RUN, RUN, ANY_MODE, 0 },
	[KEY_GRANT] = { "grant", PLAN_MAX_GRANTS, RUN, 0, ANY_MODE, 0 },
	[KEY_MASK] = { "mask", PLAN_MAX_MASKS, RUN, 0, CASUAL, 0 },
	[KEY_ARGV] = { "argv", PLAN_MAX_ARGV, RUN, RUN, ANY_MODE, 0 },
	[KEY_ENV] = { "env", PLAN_MAX_ENV, RUN, 0, ANY_MODE, 0 },
	[KEY_SCRIPT] = { "script", 1, RUN, 0, ANY_MODE, 0 },
	[KEY_INITJAIL] = { "initjail", 1, RUN, 0, ANY_MODE, 0 },
	[KEY_UMASK] = { "umask", 1, RUN, RUN, ANY_MODE, 0 },
	[KEY_NETWORK] = { "network", 1, RUN, 0, ANY_MODE, 0 },
	[KEY_CGROUP] = { "cgroup", PLAN_MAX_CGROUPS, RUN, 0, ANY_MODE, 0 },
	[KEY_USERNS] = { "userns", 1, RUN, 0, ANY_MODE, 0 },
	[KEY_KEYRING] = { "keyring", 1, RUN, 0, ANY_MODE, 0 },
	[KEY_STDIN] = { "stdin", 1, RUN, RUN, ANY_MODE, 0 },
	[KEY_STDOUT] = { "stdout", 1, RUN, RUN, ANY_MODE, 0 },
	[KEY_STDERR] = { "stderr", 1, RUN, RUN, ANY_MODE, 0 },
	[KEY_PTY_ROWS] = { "pty_rows", 1, RUN, 0, ANY_MODE, 0 },
	[KEY_PTY_COLS] = { "pty_cols", 1, RUN, 0, ANY_MODE, 0 },
	[KEY_STATUS_FD] = { "status_fd", 1, ANY_OP, ANY_OP, ANY_MODE, 0 },
	[KEY_GO] = { "go", 1, RUN, 0, ANY_MODE, 0 },
};

static const char *const plan_op_names[] = {
	[PLAN_OP_RUN] = "run",
	[PLAN_OP_TEARDOWN] = "teardown",
};

static const char *const plan_mode_names[] = {
	[PLAN_MODE_CASUAL] = "casual",
	[PLAN_MODE_STRICT] = "strict",
	[PLAN_MODE_BARE] = "bare",
};

/* An error message; input bytes go through plan_quote. Always returns -1. */
static int plan_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int plan_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Printable, bounded rendering of untrusted bytes for error messages. */
struct plan_quoted {
	char text[80];
};

static struct plan_quoted plan_quote(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct plan_quoted q;
	size_t o = 0;
	size_t i;

	for (i = 0; i < len && o + 5 < sizeof q.text - 4; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			q.text[o++] = (char)c;
		} else {
			q.text[o++] = '\\';
			q.text[o++] = 'x';
			q.text[o++] = hex[c >> 4];
			q.text[o++] = hex[c & 15];
		}
	}
	if (i < len) {
		q.text[o++] = '.';
		q.text[o++] = '.';
		q.text[o++] = '.';
	}
	q.text[o] = '\0';
	return q;
}

#define Q(str, len) (plan_quote((str), (len)).text)

/* Decimal without sign, leading zeros or overflow; at most 10 digits. */
static bool plan_parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 10 || (s[0] == '0' && len > 1))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A uid or gid: not 0 (root) and not 2^32-1 (the "no id" value of chown/setresuid). */
static bool plan_parse_id(const char *s, size_t len, uint32_t *out)
{
	return plan_parse_u32(s, len, out) && *out != 0 && *out != UINT32_MAX;
}

/* An fd number ≥ 3 (0–2 are the helper's own plan, /dev/null and diagnostics). */
static bool plan_parse_fd(const char *s, size_t len, int *out)
{
	uint32_t v;

	if (!plan_parse_u32(s, len, &v) || v < 3 || v > INT32_MAX)
		return false;
	*out = (int)v;
	return true;
}

static bool plan_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

/* [A-Za-z0-9._-]+, not starting with '.' (nor with '-' when no_dash), at most max bytes. */
static bool plan_is_name(const char *s, size_t len, size_t max, bool no_dash)
{
	size_t i;

	if (len == 0 || len > max || s[0] == '.' || (no_dash && s[0] == '-'))
		return false;
	for (i = 0; i < len; i++)
		if (!plan_is_name_char(s[i]))
			return false;
	return true;
}

/* Components separated by '/': none empty, none "." or "..". */
static bool plan_components_ok(const char *s, size_t len)
{
	size_t start = 0;
	size_t i;

	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			size_t n = i - start;

			if (n == 0)
				return false;
			if (n == 1 && s[start] == '.')
				return false;
			if (n == 2 && s[start] == '.' && s[start + 1] == '.')
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* Absolute and canonical: "/" alone only when allow_root; no empty, "." or ".." components, no trailing '/'. */
static bool plan_is_abs_path(const char *s, size_t len, bool allow_root)
{
	if (len == 0 || len > PLAN_MAX_PATH || s[0] != '/')
		return false;
	if (len == 1)
		return allow_root;
	return plan_components_ok(s + 1, len - 1);
}

/* A cgroup directory: absolute and canonical, strictly below PLAN_CGROUP_ROOT (the helper opens its cgroup.procs
 * without following symlinks and checks the filesystem is a cgroup one). */
static bool plan_is_cgroup_path(const char *s, size_t len)
{
	size_t n = strlen(PLAN_CGROUP_ROOT);

	return plan_is_abs_path(s, len, false) && len > n && memcmp(s, PLAN_CGROUP_ROOT, n) == 0;
}

static bool plan_is_rel_path(const char *s, size_t len)
{
	if (len == 0 || len > PLAN_MAX_PATH || s[0] == '/')
		return false;
	return plan_components_ok(s, len);
}

/* A value written into a passwd record: no field separator, no line break. */
static bool plan_is_passwd_field(const char *s, size_t len)
{
	return memchr(s, ':', len) == NULL && memchr(s, '\n', len) == NULL;
}

static bool plan_eq(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len == n && memcmp(s, lit, n) == 0;
}

/* `allow` or `deny` (userns, keyring). */
static bool plan_parse_allow(const char *v, size_t vlen, bool *allow)
{
	if (plan_eq(v, vlen, "allow"))
		*allow = true;
	else if (plan_eq(v, vlen, "deny"))
		*allow = false;
	else
		return false;
	return true;
}

static bool plan_parse_stdio(const char *s, size_t len, struct plan_stdio *out)
{
	if (plan_eq(s, len, "pty")) {
		out->kind = PLAN_STDIO_PTY;
		out->fd = -1;
		return true;
	}
	if (plan_eq(s, len, "null")) {
		out->kind = PLAN_STDIO_NULL;
		out->fd = -1;
		return true;
	}
	if (len > 3 && memcmp(s, "fd:", 3) == 0 && plan_parse_fd(s + 3, len - 3, &out->fd)) {
		out->kind = PLAN_STDIO_FD;
		return true;
	}
	return false;
}

static bool plan_parse_grant(const char *s, size_t len, struct plan_grant *out)
{
	const char *colon1 = memchr(s, ':', len);
	const char *colon2;
	const char *rest;
	size_t kind_len, fd_len, path_len;

	if (colon1 == NULL)
		return false;
	kind_len = (size_t)(colon1 - s);
	rest = colon1 + 1;
	colon2 = memchr(rest, ':', len - kind_len - 1);
	if (colon2 == NULL)
		return false;
	fd_len = (size_t)(colon2 - rest);
	path_len = len - kind_len - 1 - fd_len - 1;
	if (plan_eq(s, kind_len, "cwd"))
		out->kind = PLAN_GRANT_CWD;
	else if (plan_eq(s, kind_len, "rw"))
		out->kind = PLAN_GRANT_RW;
	else if (plan_eq(s, kind_len, "ro"))
		out->kind = PLAN_GRANT_RO;
	else
		return false;
	if (!plan_parse_fd(rest, fd_len, &out->fd))
		return false;
	if (!plan_is_abs_path(colon2 + 1, path_len, false))
		return false;
	out->path = colon2 + 1;
	return true;
}

static bool plan_parse_dim(const char *s, size_t len, unsigned short *out)
{
	uint32_t v;

	if (!plan_parse_u32(s, len, &v) || v < 1 || v > 65535)
		return false;
	*out = (unsigned short)v;
	return true;
}

static bool plan_parse_umask(const char *s, size_t len, mode_t *out)
{
	mode_t v = 0;
	size_t i;

	if (len == 0 || len > 4)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '7')
			return false;
		v = v * 8 + (mode_t)(s[i] - '0');
	}
	if (v > 0777)
		return false;
	*out = v;
	return true;
}

/* One key/value pair; the count has been checked against the cap already. */
static int plan_apply(struct plan *p, enum plan_key key, const char *v, size_t vlen, char *err, size_t errlen)
{
	const char *name = plan_keys[key].name;
	uint32_t id;

	switch (key) {
	case KEY_OP:
		if (plan_eq(v, vlen, "run"))
			p->op = PLAN_OP_RUN;
		else if (plan_eq(v, vlen, "teardown"))
			p->op = PLAN_OP_TEARDOWN;
		else
			return plan_fail(err, errlen, "op: unsupported operation \"%s\"", Q(v, vlen));
		return 0;
	case KEY_MODE:
		/* Which modes an op supports is checked with the whole plan (op may come later). */
		if (plan_eq(v, vlen, "casual"))
			p->mode = PLAN_MODE_CASUAL;
		else if (plan_eq(v, vlen, "strict"))
			p->mode = PLAN_MODE_STRICT;
		else if (plan_eq(v, vlen, "bare"))
			p->mode = PLAN_MODE_BARE;
		else
			return plan_fail(err, errlen, "mode: invalid mode \"%s\"", Q(v, vlen));
		return 0;
	case KEY_USER:
		if (!plan_is_name(v, vlen, PLAN_MAX_USER, true))
			return plan_fail(err, errlen, "user: invalid user name \"%s\"", Q(v, vlen));
		p->user = v;
		return 0;
	case KEY_UID:
		if (!plan_parse_id(v, vlen, &id))
			return plan_fail(err, errlen, "uid: invalid uid \"%s\" (decimal, not 0)", Q(v, vlen));
		p->uid = (uid_t)id;
		return 0;
	case KEY_GID:
		if (!plan_parse_id(v, vlen, &id))
			return plan_fail(err, errlen, "gid: invalid gid \"%s\" (decimal, not 0)", Q(v, vlen));
		p->gid = (gid_t)id;
		return 0;
	case KEY_GROUP:
		if (!plan_parse_id(v, vlen, &id))
			return plan_fail(err, errlen, "group: invalid gid \"%s\" (decimal, not 0)", Q(v, vlen));
		p->groups[p->ngroups++] = (gid_t)id;
		return 0;
	case KEY_SANDBOX_USER:
		if (!plan_is_name(v, vlen, PLAN_MAX_USER, true))
			return plan_fail(err, errlen, "sandbox_user: invalid user name \"%s\"", Q(v, vlen));
		p->sandbox_user = v;
		return 0;
	case KEY_SANDBOX_UID:
		if (!plan_parse_id(v, vlen, &id))
			return plan_fail(err, errlen, "sandbox_uid: invalid uid \"%s\" (decimal, not 0)", Q(v, vlen));
		p->sandbox_uid = (uid_t)id;
		return 0;
	case KEY_SANDBOX_GID:
		if (!plan_parse_id(v, vlen, &id))
			return plan_fail(err, errlen, "sandbox_gid: invalid gid \"%s\" (decimal, not 0)", Q(v, vlen));
		p->sandbox_gid = (gid_t)id;
		return 0;
	case KEY_SANDBOX_ID_BASE:
		if (!plan_parse_u32(v, vlen, &id) || id < PLAN_MIN_SANDBOX_ID_BASE || id > PLAN_MAX_SANDBOX_ID)
			return plan_fail(err, errlen, "sandbox_id_base: invalid value \"%s\" (decimal, %u to %u)",
					 Q(v, vlen), PLAN_MIN_SANDBOX_ID_BASE, PLAN_MAX_SANDBOX_ID);
		p->sandbox_id_base = id;
		return 0;
	case KEY_SANDBOX_ID_COUNT:
		if (!plan_parse_u32(v, vlen, &id) || id == 0 || id > PLAN_MAX_SANDBOX_ID)
			return plan_fail(err, errlen, "sandbox_id_count: invalid value \"%s\" (decimal, 1 to %u)",
					 Q(v, vlen), PLAN_MAX_SANDBOX_ID);
		p->sandbox_id_count = id;
		return 0;
	case KEY_SHELL:
		/* Only written into the passwd copy (never opened): the user's passwd field as it is, empty included. */
		if (vlen > PLAN_MAX_PATH || (vlen > 0 && v[0] != '/') || !plan_is_passwd_field(v, vlen))
			return plan_fail(err, errlen,
					 "shell: \"%s\" is not empty or an absolute path without ':' or newline",
					 Q(v, vlen));
		p->shell = v;
		return 0;
	case KEY_HOME:
	case KEY_STORAGE:
	case KEY_CONFIG_DIR:
		if (!plan_is_abs_path(v, vlen, false))
			return plan_fail(err, errlen, "%s: not an absolute canonical path: \"%s\"", name, Q(v, vlen));
		if (key == KEY_HOME)
			p->home = v;
		else if (key == KEY_STORAGE)
			p->storage = v;
		else
			p->config_dir = v;
		return 0;
	case KEY_CWD:
		if (!plan_is_abs_path(v, vlen, true))
			return plan_fail(err, errlen, "cwd: not an absolute canonical path: \"%s\"", Q(v, vlen));
		p->cwd = v;
		return 0;
	case KEY_JAIL:
		if (!plan_is_name(v, vlen, PLAN_MAX_JAIL, false))
			return plan_fail(err, errlen, "jail: %s: invalid sandbox name", Q(v, vlen));
		p->jail = v;
		return 0;
	case KEY_GRANT:
		if (!plan_parse_grant(v, vlen, &p->grants[p->ngrants]))
			return plan_fail(err, errlen, "grant: invalid grant \"%s\" (KIND:FD:PATH)", Q(v, vlen));
		p->ngrants++;
		return 0;
	case KEY_MASK:
		if (!plan_is_rel_path(v, vlen))
			return plan_fail(err, errlen, "mask: invalid mask \"%s\" (relative, no . or ..)", Q(v, vlen));
		p->masks[p->nmasks++] = v;
		return 0;
	case KEY_ARGV:
		if (p->argc == 0 && vlen == 0)
			return plan_fail(err, errlen, "argv: empty program name");
		p->argv[p->argc++] = v;
		return 0;
	case KEY_ENV: {
		const char *eq = memchr(v, '=', vlen);

		if (eq == NULL || eq == v)
			return plan_fail(err, errlen, "env: invalid entry \"%s\" (NAME=VALUE)", Q(v, vlen));
		/* The helper sets it (to the script it wrote); a client-chosen value would name any file. */
		if (plan_eq(v, (size_t)(eq - v), PLAN_SCRIPT_ENV))
			return plan_fail(err, errlen, "env: %s is set by the helper", PLAN_SCRIPT_ENV);
		p->env[p->nenv++] = v;
		return 0;
	}
	case KEY_SCRIPT:
		/* Any bytes but NUL (which ends the value), up to PLAN_MAX_VALUE: checked by the caller. */
		p->script = v;
		p->script_len = vlen;
		return 0;
	case KEY_INITJAIL:
		if (!plan_is_abs_path(v, vlen, false))
			return plan_fail(err, errlen, "initjail: not an absolute canonical path: \"%s\"", Q(v, vlen));
		p->initjail = v;
		return 0;
	case KEY_UMASK:
		if (!plan_parse_umask(v, vlen, &p->umask))
			return plan_fail(err, errlen, "umask: invalid umask \"%s\" (octal, at most 0777)", Q(v, vlen));
		return 0;
	case KEY_NETWORK:
		if (plan_eq(v, vlen, "host"))
			p->network = PLAN_NET_HOST;
		else if (plan_eq(v, vlen, "loopback"))
			p->network = PLAN_NET_LOOPBACK;
		else if (plan_eq(v, vlen, "none"))
			p->network = PLAN_NET_NONE;
		else
			return plan_fail(err, errlen, "network: invalid value \"%s\" (host, loopback or none)", Q(v, vlen));
		return 0;
	case KEY_CGROUP:
		if (!plan_is_cgroup_path(v, vlen))
			return plan_fail(err, errlen, "cgroup: not an absolute canonical path below %s: \"%s\"",
					 PLAN_CGROUP_ROOT, Q(v, vlen));
		p->cgroups[p->ncgroups++] = v;
		return 0;
	case KEY_USERNS:
	case KEY_KEYRING:
		if (!plan_parse_allow(v, vlen, key == KEY_USERNS ? &p->allow_userns : &p->allow_keyring))
			return plan_fail(err, errlen, "%s: invalid value \"%s\" (allow or deny)", name, Q(v, vlen));
		return 0;
	case KEY_STDIN:
	case KEY_STDOUT:
	case KEY_STDERR:
		if (!plan_parse_stdio(v, vlen, &p->stdio[key - KEY_STDIN]))
			return plan_fail(err, errlen, "%s: invalid value \"%s\" (pty, null or fd:N)", name, Q(v, vlen));
		return 0;
	case KEY_PTY_ROWS:
	case KEY_PTY_COLS:
		if (!plan_parse_dim(v, vlen, key == KEY_PTY_ROWS ? &p->pty_rows : &p->pty_cols))
			return plan_fail(err, errlen, "%s: invalid value \"%s\" (1-65535)", name, Q(v, vlen));
		return 0;
	case KEY_GO:
		if (!plan_eq(v, vlen, "wait"))
			return plan_fail(err, errlen, "go: invalid value \"%s\" (wait)", Q(v, vlen));
		p->await_go = true;
		return 0;
	case KEY_STATUS_FD:
		if (!plan_parse_fd(v, vlen, &p->status_fd) || p->status_fd != PLAN_STATUS_FD)
			return plan_fail(err, errlen, "status_fd: must be %d, not \"%s\"", PLAN_STATUS_FD, Q(v, vlen));
		return 0;
	case KEY_COUNT:
		break;
	}
	return plan_fail(err, errlen, "internal error: key %d", (int)key);
}

static bool plan_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Insertion sort (at most PLAN_MAX_GRANTS entries): a parent path is a prefix of its children, so it sorts first. */
static void plan_sort_grants(struct plan *p)
{
	size_t i, j;

	for (i = 1; i < p->ngrants; i++) {
		struct plan_grant g = p->grants[i];

		for (j = i; j > 0 && strcmp(p->grants[j - 1].path, g.path) > 0; j--)
			p->grants[j] = p->grants[j - 1];
		p->grants[j] = g;
	}
}

static size_t plan_env_name_len(const char *e)
{
	return (size_t)(strchr(e, '=') - e);
}

/* The op's key sets: nothing outside its allowed set, everything of its required set; then, in op run (whose
 * required set includes mode), the same for the mode's sets. */
static int plan_check_keys(const struct plan *p, const size_t *seen, char *err, size_t errlen)
{
	unsigned int op = 1u << p->op;
	unsigned int mode = 1u << p->mode;
	size_t i;

	for (i = 0; i < KEY_COUNT; i++)
		if (seen[i] > 0 && !(plan_keys[i].allowed & op))
			return plan_fail(err, errlen, "%s: not allowed with op %s", plan_keys[i].name,
					 plan_op_names[p->op]);
	for (i = 0; i < KEY_COUNT; i++)
		if (seen[i] == 0 && (plan_keys[i].required & op))
			return plan_fail(err, errlen, "missing key %s", plan_keys[i].name);
	if (p->op != PLAN_OP_RUN)
		return 0;
	for (i = 0; i < KEY_COUNT; i++)
		if (seen[i] > 0 && !(plan_keys[i].modes & mode))
			return plan_fail(err, errlen, "%s: not allowed with mode %s", plan_keys[i].name,
					 plan_mode_names[p->mode]);
	for (i = 0; i < KEY_COUNT; i++)
		if (seen[i] == 0 && (plan_keys[i].mode_required & mode))
			return plan_fail(err, errlen, "missing key %s", plan_keys[i].name);
	return 0;
}

/* op run, mode strict: the ids the program runs as are neither root (plan_parse_id) nor the user's, and are this
 * user's own sandbox ids: base + uid for both, within a range that ends at or below PLAN_MAX_SANDBOX_ID (so no
 * two users share them, threat model #25); and the home can be written into the passwd copy. */
static int plan_check_strict(const struct plan *p, char *err, size_t errlen)
{
	uint64_t base = p->sandbox_id_base;
	uint64_t mine = base + (uint64_t)p->uid;
	size_t i;

	if (p->sandbox_uid == p->uid)
		return plan_fail(err, errlen, "sandbox_uid: %u is the user's own uid", (unsigned)p->uid);
	if (p->sandbox_gid == p->gid)
		return plan_fail(err, errlen, "sandbox_gid: %u is the user's own gid", (unsigned)p->gid);
	for (i = 0; i < p->ngroups; i++)
		if (p->sandbox_gid == p->groups[i])
			return plan_fail(err, errlen, "sandbox_gid: %u is one of the user's groups",
					 (unsigned)p->sandbox_gid);
	if (base + p->sandbox_id_count - 1 > PLAN_MAX_SANDBOX_ID)
		return plan_fail(err, errlen, "sandbox_id_base %u + sandbox_id_count %u: past %u", p->sandbox_id_base,
				 p->sandbox_id_count, PLAN_MAX_SANDBOX_ID);
	if ((uint64_t)p->uid >= p->sandbox_id_count)
		return plan_fail(err, errlen, "uid: %u is outside the sandbox id range (sandbox_id_count %u)",
				 (unsigned)p->uid, p->sandbox_id_count);
	if ((uint64_t)p->sandbox_uid != mine)
		return plan_fail(err, errlen, "sandbox_uid: %u is not sandbox_id_base + uid (%llu)",
				 (unsigned)p->sandbox_uid, (unsigned long long)mine);
	if ((uint64_t)p->sandbox_gid != mine)
		return plan_fail(err, errlen, "sandbox_gid: %u is not sandbox_id_base + uid (%llu)",
				 (unsigned)p->sandbox_gid, (unsigned long long)mine);
	if (!plan_is_passwd_field(p->home, strlen(p->home)))
		return plan_fail(err, errlen, "home: %s contains ':' or a newline (strict mode writes it to passwd)",
				 Q(p->home, strlen(p->home)));
	return 0;
}

/* op run: stdio, fds, grants, env. */
static int plan_check_run(struct plan *p, const size_t *seen, char *err, size_t errlen)
{
	int fds[PLAN_MAX_GRANTS + 4];
	size_t nfds, i, j, ncwd = 0;

	if (p->mode == PLAN_MODE_STRICT && plan_check_strict(p, err, errlen) < 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (p->stdio[i].kind == PLAN_STDIO_PTY)
			p->uses_pty = true;
	p->has_winsize = seen[KEY_PTY_ROWS] == 1 && seen[KEY_PTY_COLS] == 1;
	if (p->uses_pty && !p->has_winsize)
		return plan_fail(err, errlen, "pty_rows and pty_cols are required when a stdio is pty");
	if (seen[KEY_PTY_ROWS] != seen[KEY_PTY_COLS])
		return plan_fail(err, errlen, "pty_rows and pty_cols go together");

	nfds = plan_fds(p, fds, sizeof fds / sizeof fds[0]);
	for (i = 0; i < nfds; i++)
		for (j = i + 1; j < nfds; j++)
			if (fds[i] == fds[j])
				return plan_fail(err, errlen, "fd %d is named twice", fds[i]);

	for (i = 0; i < p->ngrants; i++) {
		if (p->grants[i].kind == PLAN_GRANT_CWD)
			ncwd++;
		for (j = i + 1; j < p->ngrants; j++)
			if (strcmp(p->grants[i].path, p->grants[j].path) == 0)
				return plan_fail(err, errlen, "grant: %s is granted twice",
						 Q(p->grants[i].path, strlen(p->grants[i].path)));
	}
	if (ncwd > 1)
		return plan_fail(err, errlen, "grant: more than one cwd grant");
	p->has_cwd_grant = ncwd == 1;

	for (i = 0; i < p->ncgroups; i++)
		for (j = i + 1; j < p->ncgroups; j++)
			if (strcmp(p->cgroups[i], p->cgroups[j]) == 0)
				return plan_fail(err, errlen, "cgroup: %s is named twice",
						 Q(p->cgroups[i], strlen(p->cgroups[i])));

	for (i = 0; i < p->nenv; i++) {
		size_t n = plan_env_name_len(p->env[i]);

		for (j = i + 1; j < p->nenv; j++)
			if (plan_env_name_len(p->env[j]) == n && memcmp(p->env[i], p->env[j], n) == 0)
				return plan_fail(err, errlen, "env: %s is set twice", Q(p->env[i], n));
	}

	/* The storage dir must never be visible or writable through the overlay's own home. */
	if (plan_path_within(p->home, p->config_dir))
		return plan_fail(err, errlen, "home: %s is within the storage or config dir",
				 Q(p->home, strlen(p->home)));

	plan_sort_grants(p);
	p->argv[p->argc] = NULL;
	p->env[p->nenv] = NULL;
	return 0;
}

/* Whole-plan checks once every pair is in. */
static int plan_check(struct plan *p, const size_t *seen, char *err, size_t errlen)
{
	if (seen[KEY_OP] == 0)
		return plan_fail(err, errlen, "missing key op");
	if (plan_check_keys(p, seen, err, errlen) < 0)
		return -1;
	if (plan_path_within(p->home, p->storage))
		return plan_fail(err, errlen, "home: %s is within the storage or config dir",
				 Q(p->home, strlen(p->home)));
	if (p->op == PLAN_OP_RUN)
		return plan_check_run(p, seen, err, errlen);
	p->argv[0] = NULL;
	p->env[0] = NULL;
	return 0;
}

int plan_append_env(struct plan *p, const char *entry)
{
	if (p->nenv > PLAN_MAX_ENV)
		return -1;
	p->env[p->nenv++] = entry;
	p->env[p->nenv] = NULL;
	return 0;
}

size_t plan_fds(const struct plan *p, int *fds, size_t max)
{
	size_t n = 0;
	size_t i;

	if (n < max)
		fds[n++] = p->status_fd;
	for (i = 0; i < p->ngrants && n < max; i++)
		fds[n++] = p->grants[i].fd;
	for (i = 0; i < 3 && n < max; i++)
		if (p->stdio[i].kind == PLAN_STDIO_FD)
			fds[n++] = p->stdio[i].fd;
	return n;
}

static int plan_find_key(const char *k, size_t klen)
{
	int i;

	for (i = 0; i < KEY_COUNT; i++)
		if (plan_eq(k, klen, plan_keys[i].name))
			return i;
	return -1;
}

/* plan_parse zeroes the plan up to argv: argv and env must stay its last members. */
_Static_assert(offsetof(struct plan, env) == offsetof(struct plan, argv) + sizeof(((struct plan *)0)->argv),
	       "env follows argv");
_Static_assert(offsetof(struct plan, env) + sizeof(((struct plan *)0)->env) == sizeof(struct plan),
	       "argv and env end struct plan");

int plan_parse(const char *buf, size_t len, struct plan *p, char *err, size_t errlen)
{
	size_t seen[KEY_COUNT] = { 0 };
	size_t pos = 0;
	size_t i;
	bool ended = false;

	memset(p, 0, offsetof(struct plan, argv));
	p->argv[0] = NULL;
	p->env[0] = NULL;
	p->status_fd = -1;
	p->allow_keyring = true;
	for (i = 0; i < 3; i++) {
		p->stdio[i].kind = PLAN_STDIO_NULL;
		p->stdio[i].fd = -1;
	}
	if (errlen > 0)
		err[0] = '\0';
	if (len > PLAN_MAX_BYTES)
		return plan_fail(err, errlen, "plan larger than %u bytes", PLAN_MAX_BYTES);
	if (len < sizeof PLAN_MAGIC || memcmp(buf, PLAN_MAGIC, sizeof PLAN_MAGIC) != 0)
		return plan_fail(err, errlen, "not a %s plan", PLAN_MAGIC);
	pos = sizeof PLAN_MAGIC;

	while (pos < len) {
		const char *k = buf + pos;
		const char *knul = memchr(k, '\0', len - pos);
		const char *v, *vnul;
		size_t klen, vlen;
		int key;

		if (knul == NULL)
			return plan_fail(err, errlen, "truncated plan (a key without its NUL)");
		klen = (size_t)(knul - k);
		pos += klen + 1;
		if (plan_eq(k, klen, "end")) {
			ended = true;
			break;
		}
		if (klen > PLAN_MAX_VALUE)
			return plan_fail(err, errlen, "key longer than %u bytes", PLAN_MAX_VALUE);
		key = plan_find_key(k, klen);
		if (key < 0)
			return plan_fail(err, errlen, "unknown key \"%s\"", Q(k, klen));
		if (pos >= len)
			return plan_fail(err, errlen, "truncated plan (key %s without a value)", plan_keys[key].name);
		v = buf + pos;
		vnul = memchr(v, '\0', len - pos);
		if (vnul == NULL)
			return plan_fail(err, errlen, "truncated plan (value of %s without its NUL)",
					 plan_keys[key].name);
		vlen = (size_t)(vnul - v);
		pos += vlen + 1;
		if (vlen > PLAN_MAX_VALUE)
			return plan_fail(err, errlen, "%s: value longer than %u bytes", plan_keys[key].name,
					 PLAN_MAX_VALUE);
		if (seen[key] >= plan_keys[key].max && plan_keys[key].max == 1)
			return plan_fail(err, errlen, "%s: repeated", plan_keys[key].name);
		if (seen[key] >= plan_keys[key].max)
			return plan_fail(err, errlen, "%s: more than %zu", plan_keys[key].name, plan_keys[key].max);
		seen[key]++;
		if (plan_apply(p, (enum plan_key)key, v, vlen, err, errlen) < 0)
			return -1;
	}
	if (!ended)
		return plan_fail(err, errlen, "truncated plan (no end)");
	if (pos != len)
		return plan_fail(err, errlen, "trailing bytes after end");
	return plan_check(p, seen, err, errlen);
}
