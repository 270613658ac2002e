/* pty-relay-reference.c — the least a PTY relay can cost, for bench/pty-throughput.ts: runs a command on a fresh PTY
 * (as jai's helper gives the jailed program one) and copies the PTY's output to stdout with blocking read()/write()
 * in one thread, stdout's terminal in raw mode (as jai's relay does). No jail, no daemon, no Node, no input relay.
 * Usage: pty-relay-reference CMD [ARG…] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "pty-relay-reference: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	static char buf[65536];
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	struct termios saved, raw;
	int master, slave;
	bool is_tty = isatty(STDOUT_FILENO);

	if (argc < 2) {
		fprintf(stderr, "usage: pty-relay-reference CMD [ARG...]\n");
		return 2;
	}
	if (is_tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		die("ioctl(stdout, TIOCGWINSZ)");
	if (openpty(&master, &slave, NULL, NULL, &ws) < 0)
		die("openpty");
	if (is_tty) {
		if (tcgetattr(STDOUT_FILENO, &saved) < 0)
			die("tcgetattr(stdout)");
		raw = saved;
		cfmakeraw(&raw);
		if (tcsetattr(STDOUT_FILENO, TCSADRAIN, &raw) < 0)
			die("tcsetattr(stdout, raw)");
	}
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (setsid() < 0)
			die("setsid");
		if (ioctl(slave, TIOCSCTTY, 0) < 0)
			die("ioctl(slave, TIOCSCTTY)");
		if (dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0 || dup2(slave, STDERR_FILENO) < 0)
			die("dup2(slave)");
		if (close(slave) < 0 || close(master) < 0)
			die("close(pty)");
		execvp(argv[1], argv + 1);
		die(argv[1]);
	}
	if (close(slave) < 0)
		die("close(slave)");
	for (;;) {
		ssize_t n = read(master, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EIO: no process holds the slave any more */
		for (ssize_t at = 0; at < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + at, (size_t)(n - at));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				die("write(stdout)");
			at += w;
		}
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	if (is_tty && tcsetattr(STDOUT_FILENO, TCSADRAIN, &saved) < 0)
		die("tcsetattr(stdout, restore)");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
