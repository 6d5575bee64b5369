/* The seccomp sandbox: one allow-list per thread role, compiled into a BPF program with libseccomp
 * on the main thread before any other thread exists; each thread loads its own with sandbox_enter;
 * the SIGSYS handler turns a forbidden call into one line and EXIT_SANDBOX (async-signal-safe:
 * names are resolved up front). */
#include "core/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>

#include "backend/console.h"
#include "log.h"

#define MAX_NR 512	/* x86-64 system call numbers in use are below this */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1	/* si_code of a seccomp SIGSYS (linux/signal.h, not in every libc) */
#endif

static const char *const role_names[SANDBOX_NROLES] = {
	[SANDBOX_MAIN] = "main", [SANDBOX_VCPU] = "vcpu", [SANDBOX_IO] = "io",
	[SANDBOX_VBLK] = "vblk", [SANDBOX_SERIAL_OUT] = "serial-out", [SANDBOX_API] = "api",
	[SANDBOX_GDB] = "gdb",
};

/* Written by sandbox_configure before any other thread exists, read-only after. */
static enum sandbox_mode sb_mode = SANDBOX_OFF;
static int sb_trigger = SANDBOX_NO_ROLE;
static struct sock_fprog sb_prog[SANDBOX_NROLES];
static const char *sb_names[MAX_NR];	/* libseccomp's names, resolved up front for the handler */
static __thread int sb_role = SANDBOX_NO_ROLE;

const char *sandbox_role_name(int role)
{
	return role >= 0 && role < SANDBOX_NROLES ? role_names[role] : NULL;
}

int sandbox_role_parse(const char *name)
{
	for (int i = 0; i < SANDBOX_NROLES; i++)
		if (!strcmp(name, role_names[i]))
			return i;
	return -1;
}

/* ---- the allow-lists, one per role: each entry is there because that thread makes the call. ----
 * Sanitizer runtimes make calls of their own (LeakSanitizer's ptrace-based stop-the-world at exit,
 * shadow memory, reports): those are allowed in sanitizer builds only. */

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* sys: the system calls allowed as such; ioctls: the requests ioctl(2) may carry. The checks on
 * arguments (tgkill to this process only, no PROT_EXEC mapping) are add_rules'. */
struct sandbox_list {
	const int *sys;
	size_t nsys;
	const unsigned long *ioctls;
	size_t nioctls;
};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif

/* Every role. Logging (log.c, any thread): fstat, isatty (TCGETS), write, poll on a stalled
 * stderr, sendto for a socket stderr; its reopen of /proc/self/fd/2 is refused with EACCES in roles
 * that may not open files, and the line is then written plainly. Locks and condition variables
 * (futex), malloc (brk, mmap/mprotect without PROT_EXEC, madvise, mremap), the clock. Signals: the
 * fatal and job-control handlers (main.c) run on whichever thread takes the signal: they restore
 * the terminal (TCSETS*, TIOCGPGRP, getpgrp), reset a handler and re-raise (tgkill, to this process
 * only: sandbox.c checks the pid). */
static const int base_sys[] = {
	__NR_read, __NR_write, __NR_writev, __NR_fstat, __NR_newfstatat, __NR_poll, __NR_ppoll,
	__NR_sendto, __NR_futex, __NR_exit, __NR_exit_group, __NR_rt_sigreturn, __NR_rt_sigprocmask,
	__NR_rt_sigaction, __NR_tgkill, __NR_getpid, __NR_gettid, __NR_getpgrp, __NR_clock_gettime,
	__NR_gettimeofday, __NR_sched_yield, __NR_brk, __NR_mmap, __NR_mprotect, __NR_munmap,
	__NR_madvise, __NR_mremap, __NR_restart_syscall, __NR_ioctl,
};
static const unsigned long base_ioctls[] = { TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGPGRP };

/* Interrupt delivery from any thread that completes device work: an MSI-X vector whose route
 * went stale is re-routed (KVM_SET_GSI_ROUTING) and bound to its irqfd (KVM_IRQFD), or sent
 * directly (KVM_SIGNAL_MSI); INTx and the legacy devices raise KVM_IRQ_LINE. */
#define KVM_IRQ_IOCTLS KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING, KVM_IRQFD

/* main after setup: waits for the stop, kicks and joins the threads, tears down (close, irqfd and
 * ioeventfd deassignment, unlink
 * of the API socket, evloop stop through its eventfd), dies of a stop signal (re-raise). */
static const int main_sys[] = {
	__NR_close, __NR_unlink, __NR_epoll_ctl, __NR_fdatasync, __NR_fsync,
};
static const unsigned long main_ioctls[] = { KVM_IRQ_IOCTLS, KVM_IOEVENTFD };

/* vCPU: KVM_RUN, and the devices its exits reach: eventfd writes (irqfd, the disk worker's kick
 * is a condition variable), a queue's doorbell moved by a BAR move (KVM_IOEVENTFD, epoll_ctl of
 * the I/O loop), the software-KVM quirks (KVM_TRANSLATE, registers and events), pause points
 * (KVM_KVMCLOCK_CTRL), the IDE disk (dev/ata.c), whose PIO sectors move on the vCPU thread, a
 * vhost-user disk's DRIVER_OK and reset, which talk to its back-end's socket, and virtio-rng, filled
 * from a doorbell MMIO write. */
static const int vcpu_sys[] = { __NR_epoll_ctl, __NR_preadv, __NR_pwritev, __NR_fdatasync,
	__NR_sendmsg, __NR_recvmsg,
	__NR_getrandom, __NR_timerfd_settime,
};
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_IOCTLS, KVM_IOEVENTFD, KVM_TRANSLATE, KVM_GET_REGS, KVM_SET_REGS,
	KVM_GET_SREGS, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_KVMCLOCK_CTRL,
	KVM_SET_GUEST_DEBUG,	/* --gdb: breakpoints and single-step, applied by the vCPU itself */
};

/* I/O loop: epoll, console input, tap frames (readv/writev), signalfd, eventfds. */
static const int io_sys[] = {
	__NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl, __NR_readv, __NR_close,
	__NR_getrandom, __NR_timerfd_settime,	/* virtio-rng: its buffers, its rate-limit timer */
	__NR_accept4, __NR_socket, __NR_connect, __NR_shutdown,	/* virtio-vsock's Unix sockets */
};
static const unsigned long io_ioctls[] = { KVM_IRQ_IOCTLS };

/* virtio-blk worker: the disk's I/O and flush. */
static const int vblk_sys[] = {
	__NR_preadv, __NR_pwritev, __NR_preadv2, __NR_pwritev2, __NR_pread64, __NR_pwrite64,
	__NR_fdatasync, __NR_fsync,
};
static const unsigned long vblk_ioctls[] = { KVM_IRQ_IOCTLS };

/* serial writer: output (poll while stdout is full), the fd it owns closed when it is orphaned. */
static const int serial_out_sys[] = { __NR_close };

/* API: its socket and epoll loop, its signalfd and eventfd (read/write), the log and metrics
 * files and a replacement disk for PATCH /drives (openat, fstat, lseek for the size, fcntl for
 * F_OFD_SETLK and flags, ftruncate of an output file, close), the configuration's files checked
 * before the VM exists (stat), pausing vCPUs (tgkill, KVM_KVMCLOCK_CTRL), json-c's hash seed
 * (getrandom, on its first object), SendCtrlAltDel's key presses into the i8042 (its IRQ). */
static const int api_sys[] = {
	__NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl, __NR_accept4, __NR_recvfrom, __NR_shutdown,
	__NR_close, __NR_open, __NR_openat, __NR_lseek, __NR_fcntl, __NR_ftruncate, __NR_stat,
	__NR_lstat, __NR_statx, __NR_unlink, __NR_readv, __NR_fdatasync, __NR_getrandom,
	__NR_timerfd_settime,	/* PATCH /balloon/statistics: the balloon's polling timer */
};
static const unsigned long api_ioctls[] = {
	KVM_KVMCLOCK_CTRL, KVM_IRQ_IOCTLS, BLKGETSIZE64, FIONREAD,
};

/* GDB stub: its client (accept4, recv, send, setsockopt for TCP_NODELAY, close), halting vCPUs
 * (tgkill, in the base list), the halted vCPUs' registers. */
static const int gdb_sys[] = { __NR_accept4, __NR_recvfrom, __NR_setsockopt, __NR_close };
static const unsigned long gdb_ioctls[] = {
	KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_GET_FPU, KVM_SET_FPU,
};

/* API, snapshots (board_snapshot.c, cpu_state.c): the disks flushed (fsync), the RAM and state
 * files written under temporary names (pwrite64, write, fsync, rename) skipping RAM never touched
 * (sysinfo for swap, mincore), the vCPUs' and the VM's state read from KVM, KVM's dirty log
 * (switched on per slot, then read) for Diff snapshots. */
static const int snapshot_sys[] = {
	__NR_fsync, __NR_pwrite64, __NR_rename, __NR_renameat, __NR_renameat2, __NR_mincore, __NR_sysinfo,
};
static const unsigned long snapshot_ioctls[] = {
	KVM_CHECK_EXTENSION, KVM_GET_MSR_INDEX_LIST, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_SREGS2,
	KVM_GET_FPU, KVM_GET_XCRS, KVM_GET_LAPIC, KVM_GET_VCPU_EVENTS, KVM_GET_DEBUGREGS,
	KVM_GET_MP_STATE, KVM_GET_TSC_KHZ, KVM_GET_XSAVE, KVM_GET_XSAVE2, KVM_GET_MSRS,
	KVM_GET_IRQCHIP, KVM_GET_PIT2, KVM_GET_CLOCK, KVM_SET_USER_MEMORY_REGION, KVM_GET_DIRTY_LOG,
	KVM_ENABLE_CAP, KVM_CLEAR_DIRTY_LOG,	/* manual-protect dirty log (migration, Diff) */
};
/* API, live migration (board_migrate.c): the source's socket made and connected on the API
 * thread, the migration thread started from it (it keeps this filter), the bandwidth limit's
 * sleeps. Its KVM calls are the snapshot ones above. */
static const int migrate_sys[] = {
	__NR_socket, __NR_connect, __NR_setsockopt, __NR_clone, __NR_clone3, __NR_set_robust_list,
	__NR_rseq, __NR_nanosleep, __NR_clock_nanosleep,
	__NR_pread64,	/* --migrate-disks: the images' dirty blocks read */
};
#ifdef SANDBOX_SANITIZER
static const int san_sys[] = {
	__NR_clone, __NR_clone3, __NR_ptrace, __NR_prctl, __NR_open, __NR_openat, __NR_close,
	__NR_getdents, __NR_getdents64, __NR_readlink, __NR_readlinkat, __NR_wait4, __NR_waitid,
	__NR_sigaltstack,
	__NR_prlimit64, __NR_getrlimit, __NR_sched_getaffinity, __NR_pipe, __NR_pipe2, __NR_lseek,
	__NR_set_robust_list, __NR_rseq, __NR_getppid, __NR_kill, __NR_uname, __NR_mincore,
	__NR_pread64, __NR_dup, __NR_dup2, __NR_getrusage, __NR_msync, __NR_arch_prctl,
	__NR_nanosleep, __NR_clock_nanosleep, __NR_rt_sigtimedwait, __NR_access, __NR_getuid,
	__NR_geteuid, __NR_stat, __NR_statx, __NR_sched_getparam, __NR_process_vm_readv,
};
#endif

#define LIST(s, i) (struct sandbox_list){ s, N(s), i, N(i) }
#define SYS_ONLY(s) (struct sandbox_list){ s, N(s), NULL, 0 }

static size_t sandbox_lists(enum sandbox_role role, struct sandbox_list *out)
{
	size_t n = 0;

	out[n++] = LIST(base_sys, base_ioctls);
	switch (role) {
	case SANDBOX_MAIN: out[n++] = LIST(main_sys, main_ioctls); break;
	case SANDBOX_VCPU: out[n++] = LIST(vcpu_sys, vcpu_ioctls); break;
	case SANDBOX_IO: out[n++] = LIST(io_sys, io_ioctls); break;
	case SANDBOX_VBLK: out[n++] = LIST(vblk_sys, vblk_ioctls); break;
	case SANDBOX_SERIAL_OUT: out[n++] = SYS_ONLY(serial_out_sys); break;
	case SANDBOX_API: out[n++] = LIST(api_sys, api_ioctls); out[n++] = LIST(snapshot_sys, snapshot_ioctls);
		out[n++] = SYS_ONLY(migrate_sys); break;
	case SANDBOX_GDB: out[n++] = LIST(gdb_sys, gdb_ioctls); break;
	default: break;
	}
#ifdef SANDBOX_SANITIZER
	out[n++] = SYS_ONLY(san_sys);
#endif
	return n;
}

/* ---- the SIGSYS handler: async-signal-safe only ---- */

static size_t put_str(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, unsigned long v, unsigned base)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < sizeof(tmp));
	if (base == 16)
		at = put_str(buf, at, cap, "0x");
	while (n && at < cap)
		buf[at++] = tmp[--n];
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	const ucontext_t *uc = uctx;
	const char *role = sandbox_role_name(sb_role);
	char line[192];
	size_t at = 0, cap = sizeof(line) - 2;
	int nr;

	if (si->si_code != SYS_SECCOMP) {
		/* kill -SYS, or a seccomp filter not ours: fatal as before (main.c's other faults) */
		console_restore();
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	nr = si->si_syscall;
	console_restore();	/* first: the line then reads well on the user's terminal */
	at = put_str(line, at, cap, "ckvm: sandbox: the ");
	at = put_str(line, at, cap, role ? role : "unnamed");
	at = put_str(line, at, cap, " thread made a forbidden system call: ");
	at = put_str(line, at, cap, nr >= 0 && nr < MAX_NR && sb_names[nr] ? sb_names[nr] : "?");
	at = put_str(line, at, cap, " (");
	at = put_num(line, at, cap, (unsigned long)nr, 10);
	if (nr == __NR_ioctl) {
		at = put_str(line, at, cap, ", request ");
		at = put_num(line, at, cap, (unsigned long)uc->uc_mcontext.gregs[REG_RSI] & 0xffffffffUL,
			     16);
	}
	at = put_str(line, at, cap, "); exit status 4");
	line[at++] = '\n';
	(void)!write(STDERR_FILENO, line, at);
	/* Again, and straight into exit_group (no libc or sanitizer exit path): main may have taken
	 * the terminal raw while this thread wrote. */
	console_restore();
	syscall(SYS_exit_group, SANDBOX_EXIT_STATUS);
}

/* ---- compiling the filters (main thread, before other threads) ---- */

/* The socket families a role may open: vsock's and vhost-user's Unix sockets, migration's TCP. */
static const int sock_domains[] = { AF_UNIX, AF_INET, AF_INET6 };

static int add_rules(scmp_filter_ctx ctx, const struct sandbox_list *l, uint8_t *seen, pid_t pid)
{
	int ret = 0;

	for (size_t i = 0; i < l->nsys && !ret; i++) {
		int nr = l->sys[i];

		if (nr < 0 || nr >= MAX_NR || seen[nr])
			continue;
		seen[nr] = 1;
		if (nr == __NR_ioctl)	/* by request: below */
			continue;
		if (nr == __NR_tgkill)	/* a kick, a re-raise: this process's threads only */
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)pid, 0));
		else if (nr == __NR_socket)	/* stream sockets of Unix, IPv4, IPv6: no raw, packet, netlink */
			for (size_t d = 0; d < sizeof(sock_domains) / sizeof(sock_domains[0]) && !ret; d++)
				ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2,
						       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock_domains[d], 0),
						       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM));
		else if (nr == __NR_mmap || nr == __NR_mprotect)	/* never executable memory */
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		else
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	/* The kernel compares the request as 32 bits: so does the filter. */
	for (size_t i = 0; i < l->nioctls && !ret; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, __NR_ioctl, 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, l->ioctls[i] & 0xffffffffUL));
	return ret;
}

/* The BPF program of one role into *prog (malloc'd); *nsys: the number of system calls allowed. */
static int compile_role(enum sandbox_role role, struct sock_fprog *prog, unsigned *nsys)
{
	uint32_t deflt = sb_mode == SANDBOX_KILL ? SCMP_ACT_TRAP : SCMP_ACT_LOG;
	struct sandbox_list lists[6];
	uint8_t seen[MAX_NR] = { 0 };
	size_t n = sandbox_lists(role, lists);
	scmp_filter_ctx ctx = seccomp_init(deflt);
	int ret = 0, fd = -1;
	off_t len;

	if (!ctx)
		return -ENOMEM;
	/* a call of another ABI (i386 int 0x80, x32) is as forbidden as any other */
	if ((ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deflt)))
		goto out;
	for (size_t i = 0; i < n && !ret; i++)
		ret = add_rules(ctx, &lists[i], seen, getpid());
	/* Roles that open no files: log.c's reopen of stderr fails softly and it writes plainly. */
	if (!ret && !seen[__NR_openat])
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), __NR_openat, 0);
	if (!ret && !seen[__NR_open])
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), __NR_open, 0);
	if (ret)
		goto out;
	*nsys = 0;
	for (int i = 0; i < MAX_NR; i++)
		*nsys += seen[i];
	/* libseccomp 2.5 exports only to an fd */
	fd = memfd_create("ckvm-seccomp", MFD_CLOEXEC);
	if (fd < 0 || (ret = seccomp_export_bpf(ctx, fd)))
		goto out_errno;
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % sizeof(struct sock_filter) ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		ret = -E2BIG;
		goto out;
	}
	prog->len = (unsigned short)(len / sizeof(struct sock_filter));
	prog->filter = malloc((size_t)len);
	if (!prog->filter || pread(fd, prog->filter, (size_t)len, 0) != len) {
		free(prog->filter);
		prog->filter = NULL;
		ret = -EIO;
	}
	goto out;
out_errno:
	if (!ret)
		ret = -errno;
out:
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return ret;
}

int sandbox_configure(enum sandbox_mode mode, int trigger)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);	/* in every mode: kill -SYS stays fatal, terminal restored */
	sb_mode = mode;
	sb_trigger = trigger;
	if (mode == SANDBOX_OFF)
		return 0;
	for (int nr = 0; nr < MAX_NR; nr++)
		sb_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);	/* kept */
	/* Without CAP_SYS_ADMIN the kernel loads a filter only under no_new_privs; ckvm execs nothing. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		ret = -errno;
		log_errno(LOG_ERR, "sandbox", ret, "PR_SET_NO_NEW_PRIVS");
		return ret;
	}
	for (int r = 0; r < SANDBOX_NROLES; r++) {
		unsigned nsys = 0;

		if ((ret = compile_role((enum sandbox_role)r, &sb_prog[r], &nsys))) {
			log_errno(LOG_ERR, "sandbox", ret, "cannot build the %s thread's seccomp filter",
				  role_names[r]);
			return ret;
		}
		log_debug("sandbox", "%s: %u system calls allowed, %u BPF instructions", role_names[r],
			  nsys, sb_prog[r].len);
	}
	return 0;
}

void sandbox_enter(enum sandbox_role role)
{
	sigset_t sys;

	sb_role = role;
	if (sb_mode == SANDBOX_OFF || role < 0 || role >= SANDBOX_NROLES)
		return;
	/* A blocked SIGSYS from seccomp kills without running the handler: the disk and serial
	 * workers block every signal, so unblock this one. */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sb_prog[role]) < 0) {
		if (sb_mode == SANDBOX_KILL) {
			static const char msg[] = "ckvm: sandbox: cannot load a thread's seccomp filter; "
						  "exit status 4\n";

			console_restore();
			(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
			_exit(SANDBOX_EXIT_STATUS);
		}
		log_errno(LOG_WARN, "sandbox", -errno, "%s thread: seccomp filter", role_names[role]);
		return;
	}
	if (sb_trigger == (int)role)	/* --seccomp-test-trigger: one call no role allows */
		syscall(SYS_getsid, 0);	/* harmless; no role, nor a sanitizer runtime, calls it */
}
