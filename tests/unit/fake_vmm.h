/* A recording fake of struct vmm_ops for device unit tests (PCI, MSI-X, virtio-pci, the legacy ISA
 * devices, the console): no /dev/kvm. Optional hooks let threaded tests post a semaphore. */
#ifndef CKVM_FAKE_VMM_H
#define CKVM_FAKE_VMM_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/vmm_ops.h"

#define FAKE_MAX 64

struct fake_vmm {
	int line[32];			/* last level per GSI */
	int line_changes;
	int next_gsi;
	int routes;
	uint64_t route_addr[FAKE_MAX];	/* by GSI */
	uint32_t route_data[FAKE_MAX];
	int sends;
	uint64_t send_addr;
	uint32_t send_data;
	int irqfd_efd[FAKE_MAX];	/* by GSI, -1 unbound */
	bool no_irqfd;
	int ioev_nr;			/* currently assigned ioeventfds */
	uint64_t ioev_addr[FAKE_MAX];
	int ioev_efd[FAKE_MAX];
	uint32_t last_gsi;		/* the latest irq_line call, any GSI */
	int last_level;
	int stops;			/* request_stop calls, and the latest one's reason and code */
	enum vm_stop_reason why;
	int code;
	/* Called after recording, if set (after fake_vmm_init): e.g. to wake a waiting test thread. */
	void (*on_irq_line)(struct fake_vmm *f, uint32_t gsi, int level);
	void (*on_stop)(struct fake_vmm *f);
};

static int fake_irq_line(void *ctx, uint32_t gsi, int level)
{
	struct fake_vmm *f = ctx;

	if (gsi < 32) {
		f->line[gsi] = level;
		f->line_changes++;
	}
	f->last_gsi = gsi;
	f->last_level = level;
	if (f->on_irq_line)
		f->on_irq_line(f, gsi, level);
	return 0;
}

static void fake_request_stop(void *ctx, enum vm_stop_reason why, int code)
{
	struct fake_vmm *f = ctx;

	f->stops++;
	f->why = why;
	f->code = code;
	if (f->on_stop)
		f->on_stop(f);
}

static int fake_msi_alloc(void *ctx)
{
	struct fake_vmm *f = ctx;

	return f->next_gsi < FAKE_MAX ? f->next_gsi++ : -ENOSPC;
}

static int fake_msi_route(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct fake_vmm *f = ctx;

	if (gsi >= FAKE_MAX)
		return -EINVAL;
	f->route_addr[gsi] = addr;
	f->route_data[gsi] = data;
	f->routes++;
	return 0;
}

static int fake_msi_send(void *ctx, uint64_t addr, uint32_t data)
{
	struct fake_vmm *f = ctx;

	f->sends++;
	f->send_addr = addr;
	f->send_data = data;
	return 0;
}

static int fake_irqfd(void *ctx, int efd, uint32_t gsi, bool assign)
{
	struct fake_vmm *f = ctx;

	if (f->no_irqfd)
		return -ENOSYS;
	if (gsi >= FAKE_MAX)
		return -EINVAL;
	f->irqfd_efd[gsi] = assign ? efd : -1;
	return 0;
}

static int fake_ioeventfd(void *ctx, uint64_t addr, uint32_t len, bool pio, int efd, bool assign)
{
	struct fake_vmm *f = ctx;

	(void)len;
	(void)pio;
	if (assign) {
		if (f->ioev_nr == FAKE_MAX)
			return -ENOSPC;
		f->ioev_addr[f->ioev_nr] = addr;
		f->ioev_efd[f->ioev_nr++] = efd;
		return 0;
	}
	for (int i = 0; i < f->ioev_nr; i++) {
		if (f->ioev_addr[i] == addr && f->ioev_efd[i] == efd) {
			f->ioev_addr[i] = f->ioev_addr[f->ioev_nr - 1];
			f->ioev_efd[i] = f->ioev_efd[--f->ioev_nr];
			return 0;
		}
	}
	return -ENOENT;
}

/* The eventfd bound (ioeventfd) at addr, or -1. */
static inline int fake_ioev_at(const struct fake_vmm *f, uint64_t addr)
{
	for (int i = 0; i < f->ioev_nr; i++)
		if (f->ioev_addr[i] == addr)
			return f->ioev_efd[i];
	return -1;
}

static inline void fake_vmm_init(struct fake_vmm *f, struct vmm_ops *ops)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < FAKE_MAX; i++)
		f->irqfd_efd[i] = -1;
	*ops = (struct vmm_ops){
		.ctx = f, .irq_line = fake_irq_line, .msi_alloc = fake_msi_alloc,
		.msi_route = fake_msi_route, .msi_send = fake_msi_send, .irqfd = fake_irqfd,
		.ioeventfd = fake_ioeventfd, .request_stop = fake_request_stop,
	};
}

#endif
