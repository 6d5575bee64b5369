/* KVM VM lifetime and the hypervisor services devices use (struct vmm_ops): IRQ lines, MSI routes,
 * irqfd, ioeventfd and stop requests. Setup runs on the main thread; vmm_ops on any thread. */
#include "core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define NR_IOAPIC_PINS KVM_IOAPIC_NUM_PINS	/* arch/x86/layout.h: X86_IOAPIC_PINS, the same */
#define MAX_ROUTES 1024

static int vm_irq_line(void *ctx, uint32_t gsi, int level)
{
	struct vm *vm = ctx;
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };

	if (!vm->irqchip)
		return 0;
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

/* The routes KVM installs by default (GSI 0-15 to PIC and IOAPIC, GSI 0 on IOAPIC pin 2, 16-23
 * to the IOAPIC) must be restated whenever the table is replaced. */
static void routes_default(struct kvm_irq_routing *r)
{
	uint32_t gsi;

	r->nr = 0;
	for (gsi = 0; gsi < NR_IOAPIC_PINS; gsi++) {
		struct kvm_irq_routing_entry *e = &r->entries[r->nr++];

		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi == 0 ? 2 : gsi;
		if (gsi < 16) {
			e = &r->entries[r->nr++];
			e->gsi = gsi;
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			e->u.irqchip.pin = gsi % 8;
		}
	}
}

static int vm_msi_alloc(void *ctx)
{
	struct vm *vm = ctx;
	int gsi;

	pthread_mutex_lock(&vm->lock);
	gsi = vm->next_gsi < MAX_ROUTES / 2 ? (int)vm->next_gsi++ : -ENOSPC;
	pthread_mutex_unlock(&vm->lock);
	return gsi;
}

static int vm_msi_route(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct vm *vm = ctx;
	struct kvm_irq_routing *r = vm->routes;
	struct kvm_irq_routing_entry *e = NULL;
	uint32_t i;
	int ret = 0;

	if (!vm->irqchip || !r)
		return -ENODEV;
	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < r->nr; i++)
		if (r->entries[i].gsi == gsi && r->entries[i].type == KVM_IRQ_ROUTING_MSI)
			e = &r->entries[i];
	if (!e && r->nr < MAX_ROUTES)
		e = &r->entries[r->nr++];
	if (!e) {
		ret = -ENOSPC;
	} else {
		memset(e, 0, sizeof(*e));
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)addr;
		e->u.msi.address_hi = (uint32_t)(addr >> 32);
		e->u.msi.data = data;
		if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
			ret = -errno;
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

static int vm_msi_send(void *ctx, uint64_t addr, uint32_t data)
{
	struct vm *vm = ctx;
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			       .data = data };

	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

static int vm_irqfd(void *ctx, int efd, uint32_t gsi, bool assign)
{
	struct vm *vm = ctx;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)efd, .gsi = gsi,
				   .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };

	return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

static int vm_ioeventfd(void *ctx, uint64_t addr, uint32_t len, bool pio, int efd, bool assign)
{
	struct vm *vm = ctx;
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = efd };

	if (pio)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (!assign)
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static void vm_request_stop(void *ctx, enum vm_stop_reason why, int code)
{
	vm_stop(ctx, why, code, NULL);
}

int vm_create(struct vm *vm)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->stopped, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->ops = (struct vmm_ops){
		.ctx = vm, .irq_line = vm_irq_line, .msi_alloc = vm_msi_alloc,
		.msi_route = vm_msi_route, .msi_send = vm_msi_send, .irqfd = vm_irqfd,
		.ioeventfd = vm_ioeventfd, .request_stop = vm_request_stop,
	};
	vm->next_gsi = NR_IOAPIC_PINS;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "/dev/kvm");
		return ret;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		log_err(NULL, "/dev/kvm: unsupported KVM API version");
		return -ENOTSUP;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "KVM_CREATE_VM");
		return ret;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		log_err(NULL, "KVM_GET_VCPU_MMAP_SIZE failed");
		return -EINVAL;
	}
	return 0;
}

int vm_max_vcpus(const struct vm *vm)
{
	int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return n > 0 ? n : 1;
}

int vm_set_halt_poll(struct vm *vm, uint64_t max_ns)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_HALT_POLL, .args = { max_ns } };

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL) <= 0)
		return -ENOTSUP;
	return ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0 ? -errno : 0;
}

int vm_map_memory(struct vm *vm)
{
	for (int i = 0; i < vm->gm.nr; i++) {
		struct kvm_userspace_memory_region mr = {
			.slot = (uint32_t)i,
			.guest_phys_addr = vm->gm.r[i].gpa,
			.memory_size = vm->gm.r[i].len,
			.userspace_addr = (uint64_t)(uintptr_t)vm->gm.r[i].hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0) {
			int ret = -errno;

			log_errno(LOG_ERR, NULL, ret, "KVM_SET_USER_MEMORY_REGION");
			return ret;
		}
	}
	return 0;
}

int vm_create_irqchip(struct vm *vm, uint64_t tss_gpa, uint64_t ident_gpa)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = ident_gpa;
	int ret = 0;

	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)tss_gpa) < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "KVM_SET_TSS_ADDR");
		return ret;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 ||
	    ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "KVM_CREATE_IRQCHIP/PIT2");
		return ret;
	}
	vm->irqchip = true;
	vm->routes = calloc(1, sizeof(*vm->routes) + MAX_ROUTES * sizeof(vm->routes->entries[0]));
	if (!vm->routes)
		return -ENOMEM;
	routes_default(vm->routes);
	return 0;
}

void vm_stop(struct vm *vm, enum vm_stop_reason why, int code, const char *msg)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->stop_reason == VM_STOP_NONE) {
		vm->stop_code = code;
		if (msg)
			snprintf(vm->stop_msg, sizeof(vm->stop_msg), "%s", msg);
		/* Atomic: vCPU threads poll it without the lock (vm_stop_reason). */
		__atomic_store_n(&vm->stop_reason, why, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&vm->stopped);
	}
	pthread_mutex_unlock(&vm->lock);
}

enum vm_stop_reason vm_stop_reason(struct vm *vm)
{
	return __atomic_load_n(&vm->stop_reason, __ATOMIC_ACQUIRE);
}

enum vm_stop_reason vm_wait_stop(struct vm *vm)
{
	enum vm_stop_reason why;

	pthread_mutex_lock(&vm->lock);
	while (vm->stop_reason == VM_STOP_NONE)
		pthread_cond_wait(&vm->stopped, &vm->lock);
	why = vm->stop_reason;
	pthread_mutex_unlock(&vm->lock);
	return why;
}

void vm_stop_signals(sigset_t *set)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM,
				    SIGPROF, SIGXCPU, SIGIO, SIGPWR, SIGSTKFLT };

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaddset(set, s);
}

int64_t vm_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int vm_join_until(pthread_t t, int64_t deadline_ns)
{
	int64_t left = deadline_ns - vm_clock_ns();
	struct timespec abs;

	if (left < 0)
		left = 0;
	/* pthread_timedjoin_np takes CLOCK_REALTIME; a short relative wait makes a clock step harmless. */
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += (time_t)(left / 1000000000LL);
	abs.tv_nsec += (long)(left % 1000000000LL);
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	return -pthread_timedjoin_np(t, NULL, &abs);
}

void vm_destroy(struct vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd > 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	free(vm->routes);
	vm->routes = NULL;
	free(vm->io_hist);
	vm->io_hist = NULL;
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	gm_free(&vm->gm);
}
