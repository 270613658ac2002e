/* seccomp.c — see seccomp.h.
 *
 * A classic BPF program written out by hand (no libseccomp): per ABI, load the syscall number, refuse the listed
 * cases, allow the rest. ioctl's request is compared on its low 32 bits only: the kernel truncates it to unsigned
 * int, so a filter that also required the high half to be zero could be bypassed by setting it (CVE-2019-7303). */
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include "die.h"

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* One ABI's numbers for the syscalls the filter looks at. */
struct seccomp_abi {
	unsigned int arch;
	unsigned int nr_ioctl;
	unsigned int nr_unshare;
	unsigned int nr_clone;
	unsigned int nr_clone3;
	unsigned int nr_keys[3]; /* add_key, request_key, keyctl */
	unsigned int foreign_from; /* numbers at or above this are another ABI's (x32); 0: none */
};

#if defined(__x86_64__)
static const struct seccomp_abi seccomp_abis[] = {
	{ AUDIT_ARCH_X86_64, 16, 272, 56, 435, { 248, 249, 250 }, 0x40000000U },
	{ AUDIT_ARCH_I386, 54, 310, 120, 435, { 286, 287, 288 }, 0 },
};
#elif defined(__aarch64__)
static const struct seccomp_abi seccomp_abis[] = {
	{ AUDIT_ARCH_AARCH64, 29, 97, 220, 435, { 217, 218, 219 }, 0 },
	{ AUDIT_ARCH_ARM, 54, 337, 120, 435, { 309, 310, 311 }, 0 },
};
#else
#error "seccomp.c: add this architecture's syscall numbers"
#endif

#define SECCOMP_MAX_INSNS 64
#define ARG_LOW(i) ((unsigned int)(offsetof(struct seccomp_data, args) + 8 * (i)))

struct seccomp_prog {
	struct sock_filter insns[SECCOMP_MAX_INSNS];
	unsigned int len;
};

static void seccomp_emit(struct seccomp_prog *f, unsigned short code, unsigned char jt, unsigned char jf,
			 unsigned int k)
{
	if (f->len >= SECCOMP_MAX_INSNS)
		die("internal error: seccomp filter longer than %d instructions", SECCOMP_MAX_INSNS);
	f->insns[f->len++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

static void seccomp_load(struct seccomp_prog *f, unsigned int offset)
{
	seccomp_emit(f, BPF_LD | BPF_W | BPF_ABS, 0, 0, offset);
}

static void seccomp_ret(struct seccomp_prog *f, unsigned int action)
{
	seccomp_emit(f, BPF_RET | BPF_K, 0, 0, action);
}

/* Points the false branch of the jump at jump_at to the next instruction to be emitted. */
static void seccomp_skip_to_here(struct seccomp_prog *f, unsigned int jump_at)
{
	unsigned int skip = f->len - jump_at - 1;

	if (skip > 255)
		die("internal error: seccomp jump over %u instructions", skip);
	f->insns[jump_at].jf = (unsigned char)skip;
}

/* "if the accumulator == k return action": two instructions. */
static void seccomp_refuse_eq(struct seccomp_prog *f, unsigned int k, unsigned int action)
{
	seccomp_emit(f, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, k);
	seccomp_ret(f, action);
}

/* One ABI's rules; the accumulator holds the syscall number on entry, every path returns. */
static void seccomp_emit_abi(struct seccomp_prog *f, const struct seccomp_abi *abi, const struct plan *p)
{
	const unsigned int eperm = SECCOMP_RET_ERRNO | EPERM, enosys = SECCOMP_RET_ERRNO | ENOSYS;
	unsigned int jump_at;
	size_t i;

	if (abi->foreign_from != 0) {
		seccomp_emit(f, BPF_JMP | BPF_JGE | BPF_K, 0, 1, abi->foreign_from);
		seccomp_ret(f, enosys);
	}
	/* ioctl: TIOCSTI and TIOCLINUX refused, everything else allowed. */
	jump_at = f->len;
	seccomp_emit(f, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, abi->nr_ioctl);
	seccomp_load(f, ARG_LOW(1));
	seccomp_refuse_eq(f, TIOCSTI, eperm);
	seccomp_refuse_eq(f, TIOCLINUX, eperm);
	seccomp_ret(f, SECCOMP_RET_ALLOW);
	seccomp_skip_to_here(f, jump_at);
	if (!p->allow_keyring)
		for (i = 0; i < sizeof abi->nr_keys / sizeof abi->nr_keys[0]; i++)
			seccomp_refuse_eq(f, abi->nr_keys[i], eperm);
	if (!p->allow_userns) {
		seccomp_refuse_eq(f, abi->nr_clone3, enosys);
		/* unshare or clone: flags are argument 0 of both (and CLONE_NEWUSER fits in its low half). */
		seccomp_emit(f, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, abi->nr_unshare);
		seccomp_emit(f, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, abi->nr_clone);
		seccomp_load(f, ARG_LOW(0));
		seccomp_emit(f, BPF_JMP | BPF_JSET | BPF_K, 0, 1, CLONE_NEWUSER);
		seccomp_ret(f, eperm);
	}
	seccomp_ret(f, SECCOMP_RET_ALLOW);
}

void seccomp_install(const struct plan *p)
{
	struct seccomp_prog f = { .len = 0 };
	struct sock_fprog prog;
	size_t i;

	seccomp_load(&f, offsetof(struct seccomp_data, arch));
	for (i = 0; i < sizeof seccomp_abis / sizeof seccomp_abis[0]; i++) {
		/* Jump over this ABI's block when the arch differs: its length is known only once emitted. */
		unsigned int jump_at = f.len;

		seccomp_emit(&f, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, seccomp_abis[i].arch);
		seccomp_load(&f, offsetof(struct seccomp_data, nr));
		seccomp_emit_abi(&f, &seccomp_abis[i], p);
		seccomp_skip_to_here(&f, jump_at);
	}
	seccomp_ret(&f, SECCOMP_RET_ERRNO | ENOSYS);
	prog.len = (unsigned short)f.len;
	prog.filter = f.insns;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		die_errno("prctl(PR_SET_SECCOMP)");
}
