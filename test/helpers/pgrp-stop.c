/* A job-control program in the jail: moves to a process group of its own and takes the terminal's foreground (when
 * stdin is one), stops itself with SIGTSTP, and once continued says whether its group has the foreground again. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int tty = isatty(0);

	if (setpgid(0, 0) < 0) {
		perror("setpgid");
		return 1;
	}
	if (tty) {
		signal(SIGTTOU, SIG_IGN);
		if (tcsetpgrp(0, getpgrp()) < 0) {
			perror("tcsetpgrp");
			return 1;
		}
		signal(SIGTTOU, SIG_DFL);
	}
	printf("moved\n");
	fflush(stdout);
	raise(SIGTSTP);
	printf("continued foreground=%d\n", tty ? tcgetpgrp(0) == getpgrp() : -1);
	return 0;
}
