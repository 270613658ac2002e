/* zygote.h — jai-helper --zygote: started once by jaid, forks one helper per session (native/README.md, "The
 * zygote"). */
#ifndef JAI_ZYGOTE_H
#define JAI_ZYGOTE_H

/* The control socket, jaid's end of which is the only other: fd 3, as the status socket of a session helper. */
#define ZYGOTE_CTL_FD 3
/* Most fds one request carries: SCM_MAX_FD, what one message can carry (the helper checks them against its plan). */
#define ZYGOTE_MAX_FDS 253

/* Serves jaid's requests until the control socket reaches EOF (then exits 0). Returns only in a forked child, whose
 * fds 0..n-1 are the request's fds and every other fd is closed: the caller runs it as a freshly exec'd helper. */
void zygote_serve(void);

#endif
