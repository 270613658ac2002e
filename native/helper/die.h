/* die.h — fatal errors, warnings and notices of jai-helper.
 *
 * A fatal error is reported once, as `error CODE STAGE: MESSAGE` on the status socket (when it is known), and as
 * `jai-helper: STAGE: MESSAGE` on stderr (while stderr is still the daemon's diagnostics pipe); then the process
 * exits with CODE (1 refused, 125 setup failed, 126 cannot execute, 127 not found). */
#ifndef JAI_DIE_H
#define JAI_DIE_H

#include <stdbool.h>

/* The request was refused by the helper's own checks (a grant not owned by the user, the home dir as cwd…):
 * the user's mistake, reported like upstream jai's refusals with exit status 1. */
#define DIE_REFUSED 1
#define DIE_SETUP 125
#define DIE_NOEXEC 126
#define DIE_NOTFOUND 127
/* The text of a `notice` record is at most this long (longer texts are cut). */
#define DIE_NOTICE_MAX 4000

/* The stage named in error records, also set as the process name (prctl PR_SET_NAME) by callers that want it. */
void die_set_stage(const char *stage);
const char *die_stage(void);
/* The status socket; -1 until it has been checked to be a SOCK_SEQPACKET socket. */
void die_set_status_fd(int fd);
/* In a forked child that must not report on the status socket (the initjail child: the daemon reads records only
 * from the helper proper): fatal errors go to fd 2 only and exit with code. */
void die_set_child(int code);
/* Whether fd 2 is still the daemon's diagnostics pipe (false in the program once its stdio is in place). */
void die_set_stderr(bool enabled);
bool die_stderr(void);

_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends ": strerror(errno)". */
_Noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_code(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Non-fatal: stderr only. */
void die_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Non-fatal, for the user: a `notice TEXT` record on the status socket (best effort; TEXT cut at
 * DIE_NOTICE_MAX bytes, any byte but NUL: the daemon escapes control characters) and a line on stderr. */
void die_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
