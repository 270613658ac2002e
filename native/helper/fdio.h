/* fdio.h — the helper's fds: reading the plan, status records on the SEQPACKET socket, closing what the plan does
 * not name. */
#ifndef JAI_FDIO_H
#define JAI_FDIO_H

#include <stdbool.h>
#include <stddef.h>

#define FDIO_RECORD_MAX 4096

/* Dies unless fd is open. */
void fdio_require_open(int fd, const char *what);
/* Dies unless fd is an AF_UNIX SOCK_SEQPACKET socket. */
void fdio_require_seqpacket(int fd);
/* Reads fd to EOF into buf (at most max bytes; more is fatal). Returns the length. */
size_t fdio_read_all(int fd, char *buf, size_t max);
/* Closes every fd except those in keep[0..n) (close_range over the gaps). */
void fdio_close_all_except(const int *keep, size_t n);

/* One text record (at most FDIO_RECORD_MAX bytes). Returns 0 or -1 with errno. Never raises SIGPIPE. */
int fdio_send_record(int sock, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A text record carrying one fd (SCM_RIGHTS). Returns 0 or -1 with errno. */
int fdio_send_fd(int sock, const char *text, int fd);
/* Blocks until the daemon's `go` packet arrives on sock (the plan's `go wait`); dies on EOF, an error, any other
 * packet or one carrying fds. */
void fdio_await_go(int sock);

#endif
