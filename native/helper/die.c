/* die.c — see die.h. Async-signal-safe enough for a forked child of a single-threaded process: vsnprintf into a
 * stack buffer, then write(2) and send(2); no stdio buffers, no malloc, _exit. */
#include "die.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DIE_RECORD_MAX 4096

static const char *die_current_stage = "start";
static int die_status_fd = -1;
static bool die_stderr_enabled = true;
static int die_exit_override = -1;

void die_set_stage(const char *stage)
{
	die_current_stage = stage;
}

const char *die_stage(void)
{
	return die_current_stage;
}

void die_set_status_fd(int fd)
{
	die_status_fd = fd;
}

void die_set_child(int code)
{
	die_status_fd = -1;
	die_exit_override = code;
}

void die_set_stderr(bool enabled)
{
	die_stderr_enabled = enabled;
}

bool die_stderr(void)
{
	return die_stderr_enabled;
}

static void die_write_stderr(const char *kind, const char *msg)
{
	char line[DIE_RECORD_MAX + 64];
	int n;

	if (!die_stderr_enabled)
		return;
	n = snprintf(line, sizeof line, "jai-helper: %s%s: %s\n", kind, die_current_stage, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	/* Best effort: nothing useful can be done if the diagnostics pipe is gone. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

static _Noreturn void die_report(int code, const char *msg)
{
	char record[DIE_RECORD_MAX];
	int n;

	die_write_stderr("", msg);
	if (die_status_fd >= 0) {
		n = snprintf(record, sizeof record, "error %d %s: %s", code, die_current_stage, msg);
		if (n > 0) {
			if ((size_t)n >= sizeof record)
				n = sizeof record - 1;
			/* Best effort as well: the exit code carries the failure if the daemon is gone. */
			if (send(die_status_fd, record, (size_t)n, MSG_NOSIGNAL) < 0)
				die_write_stderr("", "send(status): cannot report the error");
		}
	}
	_exit(die_exit_override >= 0 ? die_exit_override : code);
}

static _Noreturn void die_vcode(int code, bool with_errno, const char *fmt, va_list ap)
{
	char msg[DIE_RECORD_MAX];
	int saved = errno;
	size_t len;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (with_errno) {
		len = strlen(msg);
		snprintf(msg + len, sizeof msg - len, ": %s", strerror(saved));
	}
	die_report(code, msg);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die_vcode(DIE_SETUP, false, fmt, ap);
}

void die_errno(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die_vcode(DIE_SETUP, true, fmt, ap);
}

void die_code(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die_vcode(code, false, fmt, ap);
}

void die_warn(const char *fmt, ...)
{
	char msg[DIE_RECORD_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	die_write_stderr("warning: ", msg);
}

void die_notice(const char *fmt, ...)
{
	char msg[DIE_NOTICE_MAX + 1];
	char record[DIE_NOTICE_MAX + 16];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	die_write_stderr("notice: ", msg);
	if (die_status_fd < 0)
		return;
	n = snprintf(record, sizeof record, "notice %s", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof record)
		n = sizeof record - 1;
	/* Best effort: a notice is for the user's information, and the daemon may be gone. */
	if (send(die_status_fd, record, (size_t)n, MSG_NOSIGNAL) < 0)
		die_write_stderr("", "send(status): cannot send a notice");
}
