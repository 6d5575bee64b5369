/* The board's side of the API (struct api_vmm, src/control/api.h): pause/resume of the whole VM
 * (vCPUs, then every registered device), a drive's new backing file, Ctrl+Alt+Del through the i8042,
 * a stop, and the counters the metrics report. The API thread calls these; the lifecycle calls hold
 * b->lifecycle_lock (against the main thread's stop), then the VM's and the devices' own locks. */
#include "arch/x86/board_api.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/board.h"
#include "arch/x86/board_devices.h"
#include "arch/x86/board_migrate.h"
#include "arch/x86/board_snapshot.h"
#include "core/vcpu.h"
#include "core/vm_pause.h"
#include "dev/i8042.h"
#include "virtio/virtio_vdevs.h"
#include "log.h"
#include "virtio/virtio_net.h"

#define PAUSE_TIMEOUT_NS 1000000000LL	/* every vCPU out of KVM_RUN within 1 s, or no pause */
#define DEVICE_PAUSE_NS 1000000000LL	/* ... and every device quiet within 1 s more */

/* vCPUs first (no new doorbell, no config access), then the devices finish what is in flight.
 * A device that cannot (a disk request stuck in its back-end) fails the pause: everything already
 * paused is resumed and the VM runs on (-EBUSY). */
static int board_pause(void *ctx, uint64_t *latency_ns)
{
	struct board *b = ctx;
	uint64_t vcpu_ns = 0;
	int64_t t0;
	int ret;

	pthread_mutex_lock(&b->lifecycle_lock);
	if (b->devs_stopped) {
		ret = -ESHUTDOWN;
		goto out;
	}
	if ((ret = vm_pause(&b->vm, PAUSE_TIMEOUT_NS, &vcpu_ns)) || b->devs_paused)
		goto out;
	t0 = vm_clock_ns();
	if ((ret = devreg_pause(&b->devs, t0 + DEVICE_PAUSE_NS))) {
		log_warnx(NULL, "pause: a device did not quiesce in time (%s); resuming", strerror(-ret));
		vm_resume(&b->vm);
		ret = -EBUSY;
		goto out;
	}
	b->devs_paused = true;
	/* the API logs the vCPUs' part ("out of KVM_RUN in N us"); this is the devices' */
	log_info(NULL, "pause: %u devices quiet %llu us after the vCPUs", b->devs.n,
		 (unsigned long long)((vm_clock_ns() - t0) / 1000));
out:
	pthread_mutex_unlock(&b->lifecycle_lock);
	if (latency_ns)
		*latency_ns = vcpu_ns;
	return ret;
}

/* Devices first (they catch up on doorbells and tap frames that came meanwhile, and raise what
 * interrupts they owe), then the vCPUs. */
static int board_resume(void *ctx)
{
	struct board *b = ctx;
	int ret;

	pthread_mutex_lock(&b->lifecycle_lock);
	if (b->devs_paused && !b->devs_stopped)
		devreg_resume(&b->devs);
	b->devs_paused = false;
	ret = vm_resume(&b->vm);
	pthread_mutex_unlock(&b->lifecycle_lock);
	return ret;
}

static int board_drive_swap_api(void *ctx, int index, const char *path, char *err, size_t errlen)
{
	struct board *b = ctx;
	int ret;

	pthread_mutex_lock(&b->lifecycle_lock);
	if (b->devs_stopped) {
		snprintf(err, errlen, "the VM is stopping");
		ret = -ESHUTDOWN;
	} else {
		ret = board_drive_swap(b, index, path, err, errlen);
	}
	pthread_mutex_unlock(&b->lifecycle_lock);
	return ret;
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
	for (i = 0; i < 8; i++) {
		struct vnet *n = vnet_of_device(devreg_nth(&b->devs, "virtio-net", i));
		struct vnet_stats st;

		if (!n)
			break;
		vnet_get_stats(n, &st);
		k->net[k->nnets].rx_frames = st.rx_frames;
		k->net[k->nnets].tx_frames = st.tx_frames;
		k->net[k->nnets].rx_dropped = st.rx_dropped;
		k->net[k->nnets].tx_dropped = st.tx_dropped;
		k->nnets++;
	}
	if (b->i8042)
		k->i8042_keys = i8042_keys_queued(b->i8042);
}

static int board_snapshot_api(void *ctx, const char *state_path, const char *mem_path, bool diff,
			      char *err, size_t errlen)
{
	struct board *b = ctx;
	int ret;

	pthread_mutex_lock(&b->lifecycle_lock);
	ret = b->devs_stopped ? (snprintf(err, errlen, "the VM is stopping"), -ESHUTDOWN) :
	      board_snapshot(b, state_path, mem_path, diff, err, errlen);
	pthread_mutex_unlock(&b->lifecycle_lock);
	return ret;
}

static int board_migrate_api(void *ctx, const char *url, unsigned downtime_ms, unsigned bw_mbps,
			     bool disks, char *err, size_t errlen)
{
	return board_migrate_start(ctx, url, downtime_ms, bw_mbps, disks, err, errlen);
}

static void board_migrate_progress_api(void *ctx, struct migrate_progress *out)
{
	board_migrate_progress(ctx, out);
}

void board_api_ops(struct board *b, struct api_vmm *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->ctx = b;
	ops->pause = board_pause;
	ops->resume = board_resume;
	ops->ctrl_alt_del = board_ctrl_alt_del;
	ops->shutdown = board_shutdown;
	ops->drive_swap = board_drive_swap_api;
	ops->counters = board_counters;
	ops->snapshot = board_snapshot_api;
	ops->migrate = board_migrate_api;
	ops->migrate_progress = board_migrate_progress_api;
	ops->balloon_set = board_balloon_set;	/* board_vdevs.c */
	ops->balloon_get = board_balloon_get;
}
