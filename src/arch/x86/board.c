/* THE MACHINE (x86 PC-like board): RAM and its e820 map, the in-kernel PIC/IOAPIC/LAPIC/PIT, the
 * legacy devices at their ISA ports, the PCI host with virtio devices, ACPI/MP tables, the kernel.
 * Built on the main thread; board_run() starts the I/O thread and the vCPU threads. */
#include "arch/x86/board.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "arch/x86/quirks.h"
#include "arch/x86/board_devices.h"
#include "arch/x86/board_fw.h"
#include "backend/console.h"
#include "core/evloop.h"
#include "core/sandbox.h"
#include "core/vcpu.h"
#include "log.h"

/* Map an input read-only, under an OFD read lock (the kind blk_file.c and outfile.c take): no other
 * ckvm may write it as a disk or output meanwhile. The mapping holds the open file description, so
 * the lock lasts until munmap() although the fd is closed here. */
int board_map_file(const char *what, const char *path, void **map, size_t *len)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "%s %s", what, path);
		goto out;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0 && (errno == EAGAIN || errno == EACCES)) {
		log_err(NULL, "%s %s: locked by another process (a disk or output of another ckvm?)", what,
			path);
		ret = -EBUSY;
		goto out;
	}
	if (st.st_size == 0) {
		log_err(NULL, "%s %s: empty file", what, path);
		ret = -ENOEXEC;
		goto out;
	}
	*len = (size_t)st.st_size;
	*map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "%s %s", what, path);
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static uint64_t host_ram_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	return pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
}

static int e820_build(struct board *b)
{
	const struct guest_mem *gm = &b->vm.gm;
	struct e820_table *t = &b->e820;
	uint64_t low_end = gm_low_end(gm);
	int ret = 0, i;

	t->nr = 0;
	ret |= e820_add(t, 0, LAYOUT_EBDA_GPA, E820_RAM);
	ret |= e820_add(t, LAYOUT_EBDA_GPA, LAYOUT_LOWMEM_END - LAYOUT_EBDA_GPA, E820_RESERVED);
	ret |= e820_add(t, LAYOUT_BIOS_GPA, LAYOUT_BIOS_END - LAYOUT_BIOS_GPA, E820_RESERVED);
	ret |= e820_add(t, LAYOUT_KERNEL_GPA, low_end - LAYOUT_KERNEL_GPA, E820_RAM);
	for (i = 0; i < gm->nr; i++)
		if (gm->r[i].gpa >= (1ULL << 32))
			ret |= e820_add(t, gm->r[i].gpa, gm->r[i].len, E820_RAM);
	return ret ? -EINVAL : 0;
}

static enum boot_format boot_format_of(enum kernel_format k)
{
	switch (k) {
	case KFMT_BZIMAGE: return BOOT_FMT_BZIMAGE;
	case KFMT_ELF: return BOOT_FMT_ELF;
	case KFMT_RAW: return BOOT_FMT_RAW;
	default: return BOOT_FMT_UNKNOWN;
	}
}

static const char *boot_format_name(enum boot_format f)
{
	static const char *const names[] = {
		[BOOT_FMT_UNKNOWN] = "unknown", [BOOT_FMT_BZIMAGE] = "bzImage", [BOOT_FMT_ELF] = "ELF",
		[BOOT_FMT_RAW] = "raw",
	};

	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "unknown";
}

/* The command line the guest sees: the user's, plus (quirks) the soft-KVM work-arounds for Linux. */
static int cmdline_build(struct board *b, bool quirks)
{
	const char *user = b->cfg->cmdline ? b->cfg->cmdline : "";
	size_t n = strlen(user) + strlen(quirks_linux_cmdline) + 2;

	free(b->cmdline);
	b->cmdline = malloc(n);
	if (!b->cmdline) {
		log_errno(LOG_ERR, NULL, -ENOMEM, "kernel command line");
		return -ENOMEM;
	}
	if (quirks)
		snprintf(b->cmdline, n, "%s%s%s", user, *user ? " " : "", quirks_linux_cmdline);
	else
		snprintf(b->cmdline, n, "%s", user);
	return 0;
}

/* The kernel's format, known before any device (or the terminal) is touched. */
static int kernel_format_resolve(struct board *b)
{
	b->format = boot_format_of(b->cfg->kernel_format);
	if (b->format == BOOT_FMT_UNKNOWN)
		b->format = boot_probe(b->kernel_map, b->kernel_len);
	if (b->format != BOOT_FMT_UNKNOWN)
		return 0;
	log_err(NULL, "kernel %s: not a bzImage or ELF kernel (for a flat binary use "
		"--kernel-format raw)", b->cfg->kernel);
	return -ENOEXEC;
}

static int load_kernel(struct board *b, uint64_t rsdp_gpa)
{
	const struct vm_config *cfg = b->cfg;
	enum boot_format fmt = b->format;
	bool quirks = b->vm.soft_kvm && b->vm.host_quirks && fmt != BOOT_FMT_RAW;
	struct boot_args a = { 0 };
	uint64_t t0_ns;
	int ret;

	if ((ret = cmdline_build(b, quirks)))
		return ret;
	a.kernel = b->kernel_map;
	a.kernel_len = b->kernel_len;
	a.initrd = b->initrd_map;
	a.initrd_len = b->initrd_len;
	a.cmdline = b->cmdline;
	a.e820 = &b->e820;
	a.rsdp_gpa = rsdp_gpa;
	a.load_gpa = cfg->load_gpa;
	a.entry_gpa = cfg->entry_gpa;
	a.host_decompress = cfg->kernel_decompress == KDECOMP_HOST;
	t0_ns = log_since_exec_ns();
	ret = boot_load(&b->vm.gm, fmt, &a, &b->boot);
	if (ret == -E2BIG && quirks) {
		/* No room for our work-arounds after the user's text: the user's text wins. */
		quirks = false;
		if ((ret = cmdline_build(b, false)))
			return ret;
		a.cmdline = b->cmdline;
		ret = boot_load(&b->vm.gm, fmt, &a, &b->boot);
		if (!ret)
			log_warnx(NULL, "software KVM host: kernel %s takes at most %llu bytes of command "
				  "line, so \"%s\" is not appended (the guest may fail on this host)",
				  cfg->kernel, (unsigned long long)b->boot.cmdline_max, quirks_linux_cmdline);
	}
	if (ret == -E2BIG)
		log_err(NULL, "kernel %s: --cmdline is %zu bytes; this kernel takes at most %llu",
			cfg->kernel, strlen(b->cmdline), (unsigned long long)b->boot.cmdline_max);
	else if (ret)
		log_err(NULL, "kernel %s: %s", cfg->kernel, boot_strerror(ret));
	else if (quirks)
		log_info(NULL, "software KVM host: appending \"%s\" to the kernel command line; "
			 "CX16 and PV send-ipi/sched-yield/unhalt hidden (--no-host-quirks to disable)",
			 quirks_linux_cmdline);
	if (!ret)
		log_timeline("kernel loaded: %s, %zu bytes + initrd %zu bytes in %.3f ms",
			     boot_format_name(fmt), b->kernel_len, b->initrd_len,
			     (double)(log_since_exec_ns() - t0_ns) / 1e6);
	return ret;
}

#define CPUID_MAX 256

static struct kvm_cpuid2 *cpuid_alloc(int nent)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)nent * sizeof(c->entries[0]));

	if (c)
		c->nent = (uint32_t)nent;
	return c;
}

static int vcpus_create(struct board *b)
{
	struct vm *vm = &b->vm;
	struct kvm_cpuid2 *supported = cpuid_alloc(CPUID_MAX), *cpuid = cpuid_alloc(CPUID_MAX + 32);
	int ret = 0;
	unsigned i;

	if (!supported || !cpuid) {
		ret = -ENOMEM;
		log_errno(LOG_ERR, NULL, ret, "CPUID tables");
		goto out;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, supported) < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "KVM_GET_SUPPORTED_CPUID");
		goto out;
	}
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		ret = -ENOMEM;
		log_errno(LOG_ERR, NULL, ret, "%u vCPUs", vm->ncpus);
		goto out;
	}
	for (i = 0; i < vm->ncpus && !ret; i++) {
		ret = vcpu_create(vm, i, &vm->vcpus[i]);
		cpuid->nent = CPUID_MAX + 32;	/* capacity in, entries out */
		if (!ret)
			ret = board_cpuid(b, supported, i, cpuid);
		if (!ret)
			ret = x86_vcpu_init(&vm->vcpus[i], cpuid, vm->irqchip);
		if (ret)
			log_errno(LOG_ERR, NULL, ret, "vCPU %u setup", i);
	}
	if (!ret && !b->cfg->bios && (ret = x86_vcpu_boot_regs(&vm->vcpus[0], &b->boot)))
		log_errno(LOG_ERR, NULL, ret, "vCPU 0 boot registers");
out:
	free(supported);
	free(cpuid);
	return ret;
}

static int board_build(struct board *b)
{
	const struct vm_config *cfg = b->cfg;
	struct vm *vm = &b->vm;
	uint64_t rsdp_gpa = 0;
	char err[256];
	int ret;

	if ((ret = vm_create(vm)))
		return ret;	/* each step below logs its own failure in one line */
	vm->ncpus = cfg->cpus;
	vm->soft_kvm = quirks_host_is_soft_kvm();
	vm->host_quirks = cfg->host_quirks;
	vm->emul_failure = quirks_emulation_failure;
	if (cfg->verbose)
		vm->io_hist = calloc(65536, sizeof(*vm->io_hist));
	if ((ret = config_check_host(cfg, (unsigned)vm_max_vcpus(vm), host_ram_bytes(), err, sizeof(err)))) {
		log_err(NULL, "%s", err);
		return board_bad_input(b, ret < 0 ? ret : -EINVAL);
	}
	/* Overcommitted: a halted vCPU must give its host CPU away at once rather than poll. */
	if (vm->ncpus > (unsigned)sysconf(_SC_NPROCESSORS_ONLN) && vm_set_halt_poll(vm, 0) == 0)
		log_debug(NULL, "more vCPUs than host CPUs: KVM halt polling off");
	if (cfg->bios) {
		if ((ret = board_fw_load(b)))
			return ret;
	} else if ((ret = board_map_file("kernel", cfg->kernel, &b->kernel_map, &b->kernel_len)) ||
		   (cfg->initrd && (ret = board_map_file("initrd", cfg->initrd, &b->initrd_map,
							 &b->initrd_len))) ||
		   (ret = kernel_format_resolve(b))) {
		return ret == -ENOMEM ? ret : board_bad_input(b, ret);
	}
	if ((ret = gm_alloc_ram(&vm->gm, cfg->memory_bytes, LAYOUT_MEM_HOLE_GPA))) {
		log_errno(LOG_ERR, NULL, ret, "cannot allocate %lluM of guest RAM",
			  (unsigned long long)(cfg->memory_bytes >> 20));
		return ret;
	}
	if ((ret = cfg->bios ? board_fw_map_memory(b) : vm_map_memory(vm)))
		return ret;
	log_timeline("guest memory ready: %lluM", (unsigned long long)(cfg->memory_bytes >> 20));
	/* A raw real-mode guest gets no in-kernel LAPIC, so its final HLT reaches us and ends the VM. */
	if (cfg->kernel_format != KFMT_RAW &&
	    (ret = vm_create_irqchip(vm, LAYOUT_TSS_GPA, LAYOUT_IDENT_MAP_GPA))) {
		if (ret == -ENOMEM)
			log_errno(LOG_ERR, NULL, ret, "in-kernel interrupt controllers");
		return ret;
	}
	if ((ret = evloop_create(&b->ev))) {
		log_errno(LOG_ERR, NULL, ret, "event loop");
		return ret;
	}
	/* With --bios the firmware owns low memory: no boot GDT or page tables of ours there. */
	if ((ret = e820_build(b)) || (!cfg->bios && (ret = x86_boot_tables_write(&vm->gm)))) {
		log_errno(LOG_ERR, NULL, ret, "boot tables");
		return ret;
	}
	if ((ret = board_devices_create(b)))
		return ret;
	/* --bios: the firmware owns 0xe0000-0xfffff, so no ACPI/MP tables of ours there; it gets the
	 * machine through fw_cfg instead, and the vCPU starts at the reset vector (KVM's reset state). */
	if (cfg->bios) {
		if ((ret = board_fw_create(b)))
			return ret;
	} else {
		if (cfg->kernel_format != KFMT_RAW && (ret = board_firmware_tables(b, &rsdp_gpa)))
			return ret;
		if ((ret = load_kernel(b, rsdp_gpa)))
			return ret == -ENOMEM ? ret : board_bad_input(b, ret);
	}
	if ((ret = vcpus_create(b)))
		return ret;
	bus_freeze(&vm->pio);
	bus_freeze(&vm->mmio);
	return 0;
}

int board_create(struct board *b, const struct vm_config *cfg)
{
	sigset_t set;

	memset(b, 0, sizeof(*b));
	b->cfg = cfg;
	b->files = cfg->inputs;
	b->sigfd = -1;
	b->debugcon_fd = -1;
	pthread_mutex_init(&b->lifecycle_lock, NULL);
	/* Blocked here (main did already, before any thread existed), so every thread inherits the
	 * mask; they arrive on a signalfd in the event loop, in no other thread. SIGURG (the vCPU
	 * kick) too: only vCPU threads take it. */
	vm_stop_signals(&set);
	sigaddset(&set, SIGURG);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);	/* an over-limit write fails with EFBIG instead of killing us */
	return board_build(b);
}

static const char *signal_name(int sig)
{
	const char *d = sigabbrev_np(sig);

	return d ? d : "RT";
}

static void on_signal(void *arg, uint32_t events)
{
	struct board *b = arg;
	struct signalfd_siginfo si;
	char msg[64];
	int sig;

	(void)events;
	while (read(b->sigfd, &si, sizeof(si)) == sizeof(si)) {
		sig = (int)si.ssi_signo;
		snprintf(msg, sizeof(msg), "stopped by signal %d (SIG%s)", sig, signal_name(sig));
		/* SIGHUP/SIGINT/SIGTERM: a clean stop with status 0 (README). Others: ckvm dies of them
		 * after the clean stop, so the parent sees what happened; the first one counts. */
		if (sig != SIGHUP && sig != SIGINT && sig != SIGTERM && vm_stop_reason(&b->vm) == VM_STOP_NONE)
			__atomic_store_n(&b->die_signal, sig, __ATOMIC_RELEASE);
		vm_stop(&b->vm, VM_STOP_USER, 0, msg);
	}
}

static void *io_thread(void *arg)
{
	struct board *b = arg;
	int ret;

	pthread_setname_np(pthread_self(), "io");
	sandbox_enter(SANDBOX_IO);
	ret = evloop_run(b->ev);
	if (ret)
		vm_stop(&b->vm, VM_STOP_HOST_ERROR, 0, "event loop failed");
	return NULL;
}

/* After the stop request: every thread ends, or is abandoned at the deadline with one line. */
static void board_stop_threads(struct board *b)
{
	int64_t deadline = vm_clock_ns() + BOARD_STOP_GRACE_MS * 1000000LL;
	unsigned left;

	/* vCPUs leave KVM_RUN at once; one that does not is inside a device: a disk reset, say,
	 * waiting for a hung back-end, released below when that disk's request is abandoned. */
	left = vcpus_stop(&b->vm, deadline - BOARD_STOP_GRACE_MS * 1000000LL / 2);
	if (!board_devices_quiesce(b, deadline))
		b->abandoned = true;
	if (left)
		left = vcpus_stop(&b->vm, deadline > vm_clock_ns() ? deadline : vm_clock_ns() + 100000000LL);
	if (left) {
		log_warnx(NULL, "abandoned %u vCPU thread%s that would not stop", left, left == 1 ? "" : "s");
		b->abandoned = b->console_busy = true;
	} else {
		vcpus_log_stats(&b->vm);
	}
	if (b->io_started) {
		evloop_stop(b->ev);
		if (vm_join_until(b->io_thread, deadline > vm_clock_ns() ? deadline :
				  vm_clock_ns() + 100000000LL)) {
			log_warnx(NULL, "abandoned the I/O thread, which would not stop");
			pthread_detach(b->io_thread);
			b->abandoned = b->console_busy = true;
		}
		b->io_started = false;
	}
}

enum vm_stop_reason board_run(struct board *b)
{
	sigset_t set;
	enum vm_stop_reason why;

	vm_stop_signals(&set);
	b->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (b->sigfd < 0 || evloop_add(b->ev, b->sigfd, EPOLLIN, on_signal, b))
		log_errno(LOG_WARN, NULL, -errno, "signalfd: SIGTERM and the like will not stop the VM");
	board_devices_start(b);
	if (pthread_create(&b->io_thread, NULL, io_thread, b) == 0)
		b->io_started = true;
	else
		vm_stop(&b->vm, VM_STOP_HOST_ERROR, 0, "cannot start the I/O thread");
	if (vm_stop_reason(&b->vm) == VM_STOP_NONE)
		vcpus_start(&b->vm);
	sandbox_enter(SANDBOX_MAIN);	/* after the last pthread_create: threads inherit filters */
	why = vm_wait_stop(&b->vm);
	board_stop_threads(b);
	return why;
}

void board_destroy(struct board *b)
{
	unsigned i;

	if (b->abandoned) {
		/* Threads are still inside devices or back-ends: free nothing they may touch. */
		if (!b->console_busy && b->console) {
			console_destroy(b->console);
			b->console = NULL;
		}
		console_restore();
		return;
	}
	board_devices_destroy(b);
	for (i = 0; b->vm.vcpus && i < b->vm.ncpus; i++)
		vcpu_destroy(&b->vm.vcpus[i]);
	free(b->vm.vcpus);
	b->vm.vcpus = NULL;
	if (b->sigfd >= 0)
		close(b->sigfd);
	evloop_destroy(b->ev);
	b->ev = NULL;
	if (b->kernel_map)
		munmap(b->kernel_map, b->kernel_len);
	if (b->initrd_map)
		munmap(b->initrd_map, b->initrd_len);
	free(b->cmdline);
	vm_destroy(&b->vm);	/* the slots go with the VM, before the memory behind them */
	board_fw_destroy(b);
	pthread_mutex_destroy(&b->lifecycle_lock);
}
