/* What a device may ask of the hypervisor. core/vm.c implements it over KVM (irq lines, GSI routing,
 * irqfd, ioeventfd); unit tests implement it with fakes. Devices never include <linux/kvm.h>. */
#ifndef CKVM_VMM_OPS_H
#define CKVM_VMM_OPS_H

#include <stdbool.h>
#include <stdint.h>

enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_POWEROFF,	/* ACPI S5, hlt of a raw guest: exit 0 */
	VM_STOP_REBOOT,		/* i8042 reset, triple-fault-free reboot: exit 0 */
	VM_STOP_TEST_EXIT,	/* test-exit port: exit (code << 1) | 1 */
	VM_STOP_CRASH,		/* triple fault / unhandled emulation failure */
	VM_STOP_HOST_ERROR,	/* host-side failure */
	VM_STOP_USER,		/* Ctrl-A x, SIGINT/SIGTERM */
};

struct vmm_ops {
	void *ctx;
	/* Drive an interrupt line (ISA IRQ / IOAPIC pin) to a level (edge = raise then lower). */
	int (*irq_line)(void *ctx, uint32_t gsi, int level);
	/* Allocate a GSI for an MSI route: >= 0 or -errno. */
	int (*msi_alloc)(void *ctx);
	/* Point GSI at an MSI message (address/data as the guest programmed them). */
	int (*msi_route)(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data);
	/* Deliver one MSI message directly (used when an irqfd is not wanted). */
	int (*msi_send)(void *ctx, uint64_t addr, uint32_t data);
	/* Bind/unbind an eventfd so that a write to it raises GSI. */
	int (*irqfd)(void *ctx, int efd, uint32_t gsi, bool assign);
	/* Bind/unbind an eventfd to a guest write at addr (len 0 = any width; pio selects port space). */
	int (*ioeventfd)(void *ctx, uint64_t addr, uint32_t len, bool pio, int efd, bool assign);
	/* Ask the VM to stop; the first request wins. */
	void (*request_stop)(void *ctx, enum vm_stop_reason why, int code);
};

static inline int vmm_irq_line(const struct vmm_ops *o, uint32_t gsi, int level)
{
	return o && o->irq_line ? o->irq_line(o->ctx, gsi, level) : 0;
}

static inline void vmm_request_stop(const struct vmm_ops *o, enum vm_stop_reason why, int code)
{
	if (o && o->request_stop)
		o->request_stop(o->ctx, why, code);
}

#endif
