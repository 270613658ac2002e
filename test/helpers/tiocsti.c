/* Types its argument into its own terminal with TIOCSTI (the injection a jailed program would try). Exits 0 when
 * every byte was accepted, 1 when the kernel refused. */
#include <stdio.h>
#include <sys/ioctl.h>

int main(int argc, char **argv)
{
	const char *p;

	if (argc != 2)
		return 2;
	for (p = argv[1]; *p != '\0'; p++)
		if (ioctl(0, TIOCSTI, p) < 0) {
			perror("ioctl(TIOCSTI)");
			return 1;
		}
	return 0;
}
