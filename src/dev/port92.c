/* System control port A at 0x92: A20 (always on here; KVM has no A20 gate, and the firmware, boot
 * sectors and Linux only ever turn it on) and the fast reset that ends the VM as a reboot.
 * Runs on vCPU threads; its one byte of state is read and written atomically, so no lock. */
#include "dev/port92.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEPT_BITS	0xfc	/* what a write leaves readable: everything but reset and A20 */

struct port92 {
	struct device dev;
	const struct vmm_ops *vmm;
	uint8_t bits;		/* bits 2-7 as last written (guest-visible state) */
};

static void port92_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct port92 *p = dev;
	uint8_t v = (uint8_t)(__atomic_load_n(&p->bits, __ATOMIC_RELAXED) | PORT92_A20);

	(void)off;
	memset(data, 0xff, len);	/* a wider access reaches past the one-byte register */
	if (len)
		*(uint8_t *)data = v;
}

static void port92_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct port92 *p = dev;
	uint8_t v;

	(void)off;
	if (!len)
		return;
	v = *(const uint8_t *)data;
	__atomic_store_n(&p->bits, (uint8_t)(v & KEPT_BITS), __ATOMIC_RELAXED);
	/* Bit 0 always reads 0, so a write with it set is the 0 -> 1 edge that pulses the reset line. */
	if (v & PORT92_RESET)
		vmm_request_stop(p->vmm, VM_STOP_REBOOT, 0);
}

const struct bus_ops port92_bus_ops = {
	.read = port92_read,
	.write = port92_write,
};

static struct port92 *of_dev(struct device *d)
{
	return device_of(d, struct port92, dev);
}

static void port92_reset(struct device *d)
{
	__atomic_store_n(&of_dev(d)->bits, 0, __ATOMIC_RELAXED);
}

static ssize_t port92_save(struct device *d, void *buf, size_t cap)
{
	if (cap < 1)
		return -ENOSPC;
	*(uint8_t *)buf = __atomic_load_n(&of_dev(d)->bits, __ATOMIC_RELAXED);
	return 1;
}

static int port92_restore(struct device *d, const void *buf, size_t len)
{
	uint8_t v;

	if (len != 1)
		return -EINVAL;
	v = *(const uint8_t *)buf;
	if (v & ~KEPT_BITS)
		return -EINVAL;	/* a record this device never writes */
	__atomic_store_n(&of_dev(d)->bits, v, __ATOMIC_RELAXED);
	return 0;
}

static void port92_dev_destroy(struct device *d)
{
	port92_destroy(of_dev(d));
}

static const struct device_ops port92_dev_ops = {
	.kind = "port92",
	.state_version = 1,
	.reset = port92_reset,
	.save = port92_save,
	.restore = port92_restore,
	.destroy = port92_dev_destroy,
};

struct device *port92_device(struct port92 *p)
{
	return &p->dev;
}

int port92_create(struct port92 **out, const struct vmm_ops *vmm)
{
	struct port92 *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	device_init(&p->dev, &port92_dev_ops, "port92");
	p->vmm = vmm;
	*out = p;
	return 0;
}

void port92_destroy(struct port92 *p)
{
	free(p);
}
