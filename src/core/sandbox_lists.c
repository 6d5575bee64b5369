/* The allow-lists of the seccomp sandbox, one per thread role (sandbox.h). Each entry is there
 * because that thread makes the call; the risky ones say why. Sanitizer runtimes make calls of
 * their own (LeakSanitizer's ptrace-based stop-the-world at exit, shadow memory, reports): those
 * are allowed in sanitizer builds only. Read on the main thread by sandbox_configure. */
#include "core/sandbox.h"

#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <linux/fs.h>
#include <linux/kvm.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

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
static const int main_sys[] = { __NR_close, __NR_unlink, __NR_epoll_ctl, __NR_fdatasync, __NR_fsync };
static const unsigned long main_ioctls[] = { KVM_IRQ_IOCTLS, KVM_IOEVENTFD };

/* vCPU: KVM_RUN, and the devices its exits reach: eventfd writes (irqfd, the disk worker's kick
 * is a condition variable), a queue's doorbell moved by a BAR move (KVM_IOEVENTFD, epoll_ctl of
 * the I/O loop), the software-KVM quirks (KVM_TRANSLATE, registers and events), pause points
 * (KVM_KVMCLOCK_CTRL). */
static const int vcpu_sys[] = { __NR_epoll_ctl };
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_IOCTLS, KVM_IOEVENTFD, KVM_TRANSLATE, KVM_GET_REGS, KVM_SET_REGS,
	KVM_GET_SREGS, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_KVMCLOCK_CTRL,
};

/* I/O loop: epoll, console input, tap frames (readv/writev), signalfd, eventfds. */
static const int io_sys[] = { __NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl, __NR_readv, __NR_close };
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
};
static const unsigned long api_ioctls[] = { KVM_KVMCLOCK_CTRL, KVM_IRQ_IOCTLS, BLKGETSIZE64, FIONREAD };

#ifdef SANDBOX_SANITIZER
static const int san_sys[] = {
	__NR_clone, __NR_clone3, __NR_ptrace, __NR_prctl, __NR_open, __NR_openat, __NR_close,
	__NR_getdents, __NR_getdents64, __NR_readlink, __NR_readlinkat, __NR_wait4, __NR_waitid, __NR_sigaltstack,
	__NR_prlimit64, __NR_getrlimit, __NR_sched_getaffinity, __NR_pipe, __NR_pipe2, __NR_lseek,
	__NR_set_robust_list, __NR_rseq, __NR_getppid, __NR_kill, __NR_uname, __NR_mincore,
	__NR_pread64, __NR_dup, __NR_dup2, __NR_getrusage, __NR_msync, __NR_arch_prctl,
	__NR_nanosleep, __NR_clock_nanosleep, __NR_rt_sigtimedwait, __NR_access, __NR_getuid,
	__NR_geteuid, __NR_stat, __NR_statx, __NR_sched_getparam, __NR_process_vm_readv,
};
#endif

#define LIST(s, i) (struct sandbox_list){ s, N(s), i, N(i) }
#define SYS_ONLY(s) (struct sandbox_list){ s, N(s), NULL, 0 }

size_t sandbox_lists(enum sandbox_role role, struct sandbox_list *out)
{
	size_t n = 0;

	out[n++] = LIST(base_sys, base_ioctls);
	switch (role) {
	case SANDBOX_MAIN: out[n++] = LIST(main_sys, main_ioctls); break;
	case SANDBOX_VCPU: out[n++] = LIST(vcpu_sys, vcpu_ioctls); break;
	case SANDBOX_IO: out[n++] = LIST(io_sys, io_ioctls); break;
	case SANDBOX_VBLK: out[n++] = LIST(vblk_sys, vblk_ioctls); break;
	case SANDBOX_SERIAL_OUT: out[n++] = SYS_ONLY(serial_out_sys); break;
	case SANDBOX_API: out[n++] = LIST(api_sys, api_ioctls); break;
	default: break;
	}
#ifdef SANDBOX_SANITIZER
	out[n++] = SYS_ONLY(san_sys);
#endif
	return n;
}
