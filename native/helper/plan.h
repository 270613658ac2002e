/* plan.h — the helper's input: a `jai-plan-1` plan (native/README.md), parsed and validated without syscalls.
 *
 * plan_parse is a pure function over a byte buffer (the fuzz target: test/helper/plan_fuzz.c). The parsed plan
 * points into the buffer, which must outlive it. */
#ifndef JAI_PLAN_H
#define JAI_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PLAN_MAGIC "jai-plan-1"
#define PLAN_MAX_BYTES (1024u * 1024u)
#define PLAN_MAX_VALUE (64u * 1024u)
#define PLAN_MAX_PATH 4095u
#define PLAN_MAX_USER 64u
#define PLAN_MAX_JAIL 255u
#define PLAN_MAX_GROUPS 256u
#define PLAN_MAX_GRANTS 64u
#define PLAN_MAX_MASKS 256u
#define PLAN_MAX_ARGV 4096u
#define PLAN_MAX_ENV 4096u
#define PLAN_MAX_CGROUPS 4u
/* Every `cgroup` value starts with this (and names a directory below it). */
#define PLAN_CGROUP_ROOT "/sys/fs/cgroup/"
/* strict: the sandbox id range (sandbox_id_base, sandbox_id_count) lies within [PLAN_MIN_SANDBOX_ID_BASE,
 * PLAN_MAX_SANDBOX_ID]: clear of the 16-bit ids of system and regular users, positive as a signed 32-bit id. */
#define PLAN_MIN_SANDBOX_ID_BASE 65536u
#define PLAN_MAX_SANDBOX_ID 2147483647u
#define PLAN_STATUS_FD 3
#define PLAN_ERR_MAX 256u
#define PLAN_SCRIPT_ENV "JAI_SCRIPT"

enum plan_op { PLAN_OP_RUN, PLAN_OP_TEARDOWN };

enum plan_mode { PLAN_MODE_CASUAL, PLAN_MODE_STRICT, PLAN_MODE_BARE };

/* The jail's network namespace: the host's (default), a new one with lo up, or a new one with nothing up. */
enum plan_network { PLAN_NET_HOST, PLAN_NET_LOOPBACK, PLAN_NET_NONE };

enum plan_stdio_kind { PLAN_STDIO_PTY, PLAN_STDIO_NULL, PLAN_STDIO_FD };

struct plan_stdio {
	enum plan_stdio_kind kind;
	int fd; /* PLAN_STDIO_FD only */
};

enum plan_grant_kind { PLAN_GRANT_CWD, PLAN_GRANT_RW, PLAN_GRANT_RO };

struct plan_grant {
	enum plan_grant_kind kind;
	int fd;
	const char *path;
};

/* Keys absent from the plan are NULL / 0 (argv and env: their entries below argc and nenv, and the NULL after them);
 * an op teardown plan has no run key set (argc 0, no stdio, no grants). */
struct plan {
	enum plan_op op;
	enum plan_mode mode;
	const char *user;
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t groups[PLAN_MAX_GROUPS];
	const char *home;
	/* strict only (required then, refused otherwise): the untrusted account's name, the ids the program runs as
	 * (this user's own: sandbox_id_base + uid, for both, checked), the range they come from, and the user's login
	 * shell for the passwd copy. */
	const char *sandbox_user;
	uid_t sandbox_uid;
	gid_t sandbox_gid;
	uint32_t sandbox_id_base;
	uint32_t sandbox_id_count;
	const char *shell; /* "" or absolute, without ':' or newline */
	const char *jail; /* NULL only for a teardown of all jails */
	const char *storage;
	const char *config_dir;
	const char *cwd;
	size_t ngrants;
	struct plan_grant grants[PLAN_MAX_GRANTS]; /* sorted by path: parents first */
	bool has_cwd_grant; /* a grant of kind cwd (upstream: not -D) */
	size_t nmasks;
	const char *masks[PLAN_MAX_MASKS];
	size_t argc;
	size_t nenv;
	const char *script; /* the startup script's bytes (no NUL), or NULL */
	size_t script_len;
	const char *initjail; /* absolute canonical path, or NULL */
	mode_t umask;
	enum plan_network network; /* PLAN_NET_HOST when absent */
	size_t ncgroups;
	const char *cgroups[PLAN_MAX_CGROUPS]; /* absolute canonical, below PLAN_CGROUP_ROOT, distinct */
	bool allow_userns; /* the program may create user namespaces; false (denied by seccomp) when absent */
	bool allow_keyring; /* the program may use the kernel's key syscalls; true when absent (plan_parse sets it) */
	struct plan_stdio stdio[3];
	bool uses_pty;
	bool has_winsize;
	unsigned short pty_rows;
	unsigned short pty_cols;
	int status_fd;
	bool await_go; /* `go wait`: nothing of the user's runs before a `go` packet from the daemon on status_fd */
	/* Last: plan_parse zeroes everything before argv, not these 64 KiB (16 page faults in every helper, whose
	 * plan is in zeroed static storage). Only the entries below argc and nenv, and the NULL after them, are ever
	 * read. */
	const char *argv[PLAN_MAX_ARGV + 1]; /* NULL-terminated */
	const char *env[PLAN_MAX_ENV + 2]; /* NULL-terminated; room for JAI_SCRIPT (plan_append_env) */
};

/* Parses and validates buf[0..len). Returns 0, or -1 with a one-line message in err (control characters and bytes
 * of the input escaped, long input truncated). Makes no syscalls and allocates nothing. */
int plan_parse(const char *buf, size_t len, struct plan *plan, char *err, size_t errlen);

/* Appends NAME=VALUE to the program's environment (one entry beyond the plan's own, for JAI_SCRIPT; the plan
 * refuses that name itself). Returns 0, or -1 when that entry is already used. */
int plan_append_env(struct plan *plan, const char *entry);

/* Every fd the plan names (status, grants, stdio fd:N), in no particular order; returns the count (≤ 68). */
size_t plan_fds(const struct plan *plan, int *fds, size_t max);

#endif
