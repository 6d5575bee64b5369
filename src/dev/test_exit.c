/* Test-exit port modelled on QEMU's isa-debug-exit device: the value written ends the VM run. The
 * board maps it at 0x501 and at 0xf4 (QEMU's iobase the hobby-OS suites use). Runs on vCPU threads; stateless apart from the vmm_ops pointer, so it needs no lock. */
#include "dev/test_exit.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct test_exit {
	struct device dev;
	const struct vmm_ops *vmm;
};

static void test_exit_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	(void)dev;
	(void)off;
	memset(data, 0xff, len);
}

static void test_exit_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct test_exit *t = dev;
	const uint8_t *p = data;
	uint32_t v = 0;

	(void)off;
	for (uint32_t i = 0; i < len && i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	vmm_request_stop(t->vmm, VM_STOP_TEST_EXIT, (int)v);
}

const struct bus_ops test_exit_bus_ops = {
	.read = test_exit_read,
	.write = test_exit_write,
};

/* Lifecycle (device.h): no guest-visible state (a write stops the VM, a read is all-ones), so no save or restore: the registry
 * records an empty payload and refuses a non-empty one. */
static void test_exit_dev_destroy(struct device *d)
{
	test_exit_destroy(device_of(d, struct test_exit, dev));
}

static const struct device_ops test_exit_dev_ops = {
	.kind = "test-exit",
	.state_version = 1,
	.destroy = test_exit_dev_destroy,
};

struct device *test_exit_device(struct test_exit *t)
{
	return &t->dev;
}

int test_exit_create(struct test_exit **out, const struct vmm_ops *vmm)
{
	struct test_exit *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	device_init(&t->dev, &test_exit_dev_ops, "test-exit");
	t->vmm = vmm;
	*out = t;
	return 0;
}

void test_exit_destroy(struct test_exit *t)
{
	free(t);
}
