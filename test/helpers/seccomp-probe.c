/* Tries, from inside a jail, what the helper's seccomp filter refuses, and prints one `name=errno` line each (0:
 * the call succeeded): a user namespace by unshare, clone and clone3, the same unshare through the i386 (int 0x80)
 * and x32 ABIs, and TIOCSTI with the high half of the request set (the kernel ignores it; CVE-2019-7303). A child
 * made by a clone that succeeds exits at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long r)
{
	printf("%s=%d\n", name, r < 0 ? errno : 0);
}

int main(void)
{
	long r;
	char c = '\n';

	r = syscall(SYS_unshare, CLONE_NEWUSER);
	report("unshare", r);
	r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	report("clone", r);
	r = syscall(435, NULL, 0);
	report("clone3", r);
#if defined(__x86_64__)
	{
		/* i386 unshare is 310; -ENOSYS when the kernel has no IA32 emulation. In a child: some hypervisors fault
		 * on `int $0x80` whatever the kernel (SIGSEGV, seen on a PVM guest), and then no i386 call can be made
		 * at all: `fault`. */
		pid_t child = fork();
		int status;

		if (child == 0) {
			long ret;

			__asm__ volatile("int $0x80" : "=a"(ret) : "a"(310L), "b"((long)CLONE_NEWUSER) : "memory");
			_exit(ret < 0 ? (int)-ret : 0);
		}
		if (child < 0 || waitpid(child, &status, 0) != child)
			printf("i386-unshare=probe-failed\n");
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
			printf("i386-unshare=fault\n");
		else if (WIFSIGNALED(status))
			printf("i386-unshare=signal-%d\n", WTERMSIG(status));
		else
			printf("i386-unshare=%d\n", WEXITSTATUS(status));
	}
	r = syscall(0x40000000L | 272, CLONE_NEWUSER);
	report("x32-unshare", r);
#endif
	r = syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | 0x100000000UL, &c);
	report("tiocsti-high", r);
	r = ioctl(0, TIOCSTI, &c);
	report("tiocsti", r);
	return 0;
}
