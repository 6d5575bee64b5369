/* THE DEVICE LIFECYCLE: the one interface every device embeds, and the board's registry of them.
 *
 * A device embeds a `struct device` (device_init fills it) and implements the ops it needs; the
 * board adds each device to its registry once it is wired, and creation order is the registry's
 * order: pause/save walk it forwards, resume/destroy backwards. Devices keep their guest-visible
 * registers in a plain state struct apart from their wiring (locks, fds, callbacks); save copies
 * that state into a versioned record, restore validates one (its bytes are untrusted: a migration
 * stream or a snapshot file) before anything changes. Host-clock anchors are kept guest-relative in
 * the saved state (a counter's value, not the host time it started at).
 *
 * Threads: the registry is built and destroyed on the main thread; pause/resume run on the thread
 * that pauses the VM (the API thread) with every vCPU out of KVM_RUN; ops take their device's own
 * lock. Lock order: vm->lock is never held while calling an op. */
#ifndef CKVM_DEVICE_H
#define CKVM_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct device;

struct device_ops {
	const char *kind;		/* "uart", "virtio-blk", ...: the same for every device of its code */
	uint32_t state_version;		/* of what save writes; restore refuses any other */
	/* Back to the guest-visible power-on state (a reset of the machine). Optional. */
	void (*reset)(struct device *d);
	/* Quiesce: when it returns 0, the device touches no guest memory, raises no interrupt and has
	 * no request in flight until resume. -ETIMEDOUT when in-flight work did not finish by
	 * deadline_ns (vm_clock_ns time); the device then stays running. Optional (nothing to stop). */
	int (*pause)(struct device *d, int64_t deadline_ns);
	void (*resume)(struct device *d);
	/* The VM is ending (its vCPUs have stopped): stop for good, waiting for in-flight work until
	 * deadline_ns, then abandon it. Returns how many requests were abandoned (the device says which
	 * in one log line); destroy then leaves alone what they still use. Optional: without it the
	 * registry calls pause and ignores its failure. */
	unsigned (*stop)(struct device *d, int64_t deadline_ns);
	/* Guest-visible state into buf (cap bytes): the length written, or -ENOSPC (cap too small).
	 * Only while paused. Optional (a device with no state). */
	ssize_t (*save)(struct device *d, void *buf, size_t cap);
	/* From a record save wrote (version checked by the registry): 0, or -EINVAL with the device
	 * unchanged. Only while paused. */
	int (*restore)(struct device *d, const void *buf, size_t len);
	/* Free the device (it is paused or was never started). Required. */
	void (*destroy)(struct device *d);
};

struct device {
	char name[32];			/* unique on the board: "com1", "vblk0", "rootfs" ... */
	const struct device_ops *ops;
	struct device *next;		/* the registry's link */
	int paused;
};

/* container_of for a device's embedding struct. */
#define device_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* Name the device (truncated to fit) and set its ops; the device is not registered yet. */
void device_init(struct device *d, const struct device_ops *ops, const char *name);

struct devreg {
	struct device *head, *tail;
	unsigned n;
};

/* Add d at the end. -EEXIST when the name is taken (d is not added). */
int devreg_add(struct devreg *r, struct device *d);
struct device *devreg_find(const struct devreg *r, const char *name);
/* The i-th device of a kind (0-based) in creation order, or NULL. */
struct device *devreg_nth(const struct devreg *r, const char *kind, unsigned i);
unsigned devreg_count(const struct devreg *r, const char *kind);
#define devreg_for_each(r, d) for ((d) = (r)->head; (d); (d) = (d)->next)

/* Pause every device in order; on a failure, resume those already paused and return its -errno. */
int devreg_pause(struct devreg *r, int64_t deadline_ns);
/* Resume every paused device, last first. */
void devreg_resume(struct devreg *r);
void devreg_reset(struct devreg *r);
/* The VM is ending: stop every device in order (device_ops.stop); the total of abandoned requests. */
unsigned devreg_stop(struct devreg *r, int64_t deadline_ns);
/* Destroy every device, last first, and empty the registry. */
void devreg_destroy(struct devreg *r);

/* One device's record: a header (name, kind, version, length) then save's bytes. The length of the
 * record, or -ENOSPC / the device's -errno. */
ssize_t device_save(struct device *d, void *buf, size_t cap);
/* Check a record's header against d (name, kind, version, length within len), then restore: 0, or
 * -EINVAL with d unchanged. *used = the record's length. */
int device_restore(struct device *d, const void *buf, size_t len, size_t *used);

#endif
