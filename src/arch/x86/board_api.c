/* The board's side of the API (struct api_vmm, src/control/api.h): pause/resume of the vCPUs,
 * Ctrl+Alt+Del through the i8042, a stop, and the counters the metrics report. The API thread calls
 * these; each goes through the VM's or the device's own locks. */
#include "arch/x86/board_api.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#include "arch/x86/board.h"
#include "core/vcpu.h"
#include "core/vm_pause.h"
#include "dev/i8042.h"
#include "virtio/virtio_net.h"

#define PAUSE_TIMEOUT_NS 1000000000LL	/* every vCPU out of KVM_RUN within 1 s, or no pause */

static int board_pause(void *ctx, uint64_t *latency_ns)
{
	struct board *b = ctx;

	return vm_pause(&b->vm, PAUSE_TIMEOUT_NS, latency_ns);
}

static int board_resume(void *ctx)
{
	struct board *b = ctx;

	return vm_resume(&b->vm);
}

static int board_ctrl_alt_del(void *ctx)
{
	struct board *b = ctx;

	return b->i8042 ? i8042_ctrl_alt_del(b->i8042) : -ENODEV;
}

static int board_shutdown(void *ctx)
{
	struct board *b = ctx;

	vm_stop(&b->vm, VM_STOP_USER, 0, "stopped by the API (Shutdown)");
	return 0;
}

static void board_counters(void *ctx, struct api_counters *k)
{
	static const char *const names[] = {
		[KVM_EXIT_IO] = "io", [KVM_EXIT_MMIO] = "mmio", [KVM_EXIT_HLT] = "hlt",
		[KVM_EXIT_INTR] = "intr", [KVM_EXIT_SHUTDOWN] = "shutdown",
		[KVM_EXIT_INTERNAL_ERROR] = "internal_error", [KVM_EXIT_SYSTEM_EVENT] = "system_event",
		[KVM_EXIT_FAIL_ENTRY] = "fail_entry", [KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window",
		[KVM_EXIT_DEBUG] = "debug",
	};
	struct board *b = ctx;
	struct vm *vm = &b->vm;
	unsigned i, r;

	memset(k, 0, sizeof(*k));
	k->ncpus = vm->ncpus;
	for (r = 0; r < sizeof(names) / sizeof(names[0]) && r < API_MAX_EXITS; r++)
		k->exit_name[r] = names[r];
	/* The vCPU threads count without locks; a total read meanwhile is at most a few exits old. */
	for (i = 0; vm->vcpus && i < vm->ncpus; i++)
		for (r = 0; r < API_MAX_EXITS && r < 64; r++)
			k->exits[r] += __atomic_load_n(&vm->vcpus[i].exits_by_reason[r], __ATOMIC_RELAXED);
	pthread_mutex_lock(&vm->lock);
	k->pauses = vm->pause.pauses;
	k->last_pause_ns = vm->pause.last_ns;
	k->clock_ctrl_ok = vm->pause.clock_ctrl_ok;
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < CONFIG_MAX_NETS && i < 8; i++) {
		struct vnet_stats st;

		if (!b->nets[i])
			continue;
		vnet_get_stats(b->nets[i], &st);
		k->net[k->nnets].rx_frames = st.rx_frames;
		k->net[k->nnets].tx_frames = st.tx_frames;
		k->net[k->nnets].rx_dropped = st.rx_dropped;
		k->net[k->nnets].tx_dropped = st.tx_dropped;
		k->nnets++;
	}
	if (b->i8042)
		k->i8042_keys = i8042_keys_queued(b->i8042);
}

void board_api_ops(struct board *b, struct api_vmm *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->ctx = b;
	ops->pause = board_pause;
	ops->resume = board_resume;
	ops->ctrl_alt_del = board_ctrl_alt_del;
	ops->shutdown = board_shutdown;
	ops->drive_swap = NULL;	/* needs virtio-blk's config-change interrupt: not yet */
	ops->counters = board_counters;
}
