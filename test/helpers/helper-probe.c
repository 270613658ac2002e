/* A stand-in for jai-helper (test/security/fd-leaks.test.ts runs jaid with --helper pointing here): records what
 * jaid started it with — its open fds and what they are, its blocked and ignored signals, argv and environment, and
 * the plan read from fd 0 — in OUT_DIR (given at build time: -DOUT_DIR='"…"'), then exits 125 as a helper refusing
 * the plan would. The fds are listed before this program opens anything. Started as the zygote (`--zygote`), it
 * writes report-zygote and plan-zygote instead, and exits likewise (jaid then execs its helpers a while). */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_FD 4096

extern char **environ;

static char plan[2 * 1024 * 1024];

int main(int argc, char **argv)
{
	static int open_fds[MAX_FD];
	int nopen = 0, fd, nenv = 0;
	size_t len = 0;
	char link[4096], line[512];
	FILE *out, *status, *plan_out;

	for (fd = 0; fd < MAX_FD; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			open_fds[nopen++] = fd;
	for (;;) {
		ssize_t n = read(0, plan + len, sizeof plan - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	bool zygote = argc == 2 && strcmp(argv[1], "--zygote") == 0;
	out = fopen(zygote ? OUT_DIR "/report-zygote" : OUT_DIR "/report", "w");
	plan_out = fopen(zygote ? OUT_DIR "/plan-zygote" : OUT_DIR "/plan", "w");
	status = fopen("/proc/self/status", "r");
	if (out == NULL || plan_out == NULL || status == NULL)
		return 2;
	for (int i = 0; i < nopen; i++) {
		char proc[64];
		ssize_t n;
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", open_fds[i]);
		n = readlink(proc, link, sizeof link - 1);
		link[n < 0 ? 0 : n] = '\0';
		fprintf(out, "fd %d %s\n", open_fds[i], link);
	}
	while (fgets(line, sizeof line, status) != NULL)
		if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0)
			fputs(line, out);
	for (char **e = environ; *e != NULL; e++)
		nenv++;
	fprintf(out, "argc %d\nargv0 %s\nenviron %d\n", argc, argv[0], nenv);
	fwrite(plan, 1, len, plan_out);
	if (fclose(out) != 0 || fclose(plan_out) != 0)
		return 2;
	return 125;
}
