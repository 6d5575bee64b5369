/* virtio_hostile: a 64-bit guest acting as a broken virtio-blk (modern, 1af4:1042) driver.
 * Finds the device by PCI type-1 config cycles, maps its common config from the vendor capabilities
 * (virtio 1.2 §4.1.4), then feeds queue 0 (a) a descriptor loop, (b) a descriptor at an address
 * outside guest RAM, (c) an avail index far ahead of the ring; each must set DEVICE_NEEDS_RESET
 * (§2.1.2) and the VMM must keep running. Prints "HOSTILE OK" and exits through the test port. */
#include <stdint.h>

#define EXIT_OK		0x14
#define QSIZE		8
#define POLL_MAX	100000		/* device_status reads before giving up (each is one exit) */

#include "cguest.h"

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static struct used used __attribute__((aligned(4096)));
static uint8_t buf[64] __attribute__((aligned(64)));

static struct vio vio;

int guest_main(void);

static int fail(const char *why, uint64_t val)
{
	puts_serial("FAIL: ");
	puts_serial(why);
	puts_serial(" ");
	puthex(val);
	puts_serial("\n");
	return EXIT_FAIL;
}

/* Find the device and map its common config and queue 0's doorbell. */
static int map_device(void)
{
	switch (vio_probe(&vio, VIRTIO_BLK_ID)) {
	case VIO_OK:
		return 0;
	case VIO_NO_DEVICE:
		return fail("no virtio-blk 1af4:1042 on bus 0, dev 0 id", cfg_read32(0, 0));
	case VIO_NO_CAPS:
		return fail("no capability list, status", cfg_read32(vio.bdf, 0x04) >> 16);
	case VIO_HIGH_BAR:
		return fail("common cfg BAR not below 4 GiB:", 0);
	default:
		return fail("missing common/notify capability", 0);
	}
}

static int reset_device(void)
{
	vio_wr8(&vio, C_STATUS, 0);
	for (int i = 0; i < POLL_MAX; i++)
		if (vio_rd8(&vio, C_STATUS) == 0)
			return 0;
	return fail("device_status did not read 0 after reset:", vio_rd8(&vio, C_STATUS));
}

/* Reset and bring the device up to DRIVER_OK with queue 0 on our (zeroed) rings. */
static int setup_device(void)
{
	int r = reset_device();
	if (r)
		return r;
	vio_wr32(&vio, C_DFSELECT, 1);
	if (!(vio_rd32(&vio, C_DF) & 1))
		return fail("device does not offer VERSION_1, features[63:32] =", vio_rd32(&vio, C_DF));
	if (!vio_negotiate(&vio))
		return fail("FEATURES_OK not accepted, status", vio_rd8(&vio, C_STATUS));

	uint8_t *p = (uint8_t *)descs;
	for (unsigned i = 0; i < sizeof(descs); i++)
		p[i] = 0;
	p = (uint8_t *)&avail;
	for (unsigned i = 0; i < sizeof(avail); i++)
		p[i] = 0;
	p = (uint8_t *)&used;
	for (unsigned i = 0; i < sizeof(used); i++)
		p[i] = 0;
	uint16_t max = vio_start_queue0(&vio, descs, &avail, &used);
	if (max < QSIZE)
		return fail("queue 0 smaller than 8:", max);
	return 0;
}

/* Publish head 0 with avail idx new_idx, kick queue 0 and wait for NEEDS_RESET. */
static int kick_expect_reset(const char *what, uint16_t new_idx)
{
	if (vio_rd8(&vio, C_STATUS) != (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		return fail("device_status before the kick is not ACK|DRIVER|FEATURES_OK|DRIVER_OK:", vio_rd8(&vio, C_STATUS));
	avail.ring[0] = 0;
	barrier();
	*(volatile uint16_t *)&avail.idx = new_idx;
	barrier();
	*vio.notify = 0;
	for (int i = 0; i < POLL_MAX; i++) {
		if (vio_rd8(&vio, C_STATUS) & S_NEEDS_RESET) {
			puts_serial(what);
			puts_serial(": NEEDS_RESET\n");
			return 0;
		}
	}
	puts_serial(what);
	puts_serial(": ");
	return fail("no DEVICE_NEEDS_RESET, device_status", vio_rd8(&vio, C_STATUS));
}

int guest_main(void)
{
	int r;

	if ((r = map_device()))
		return r;
	puts_serial("virtio-blk found\n");
	if ((r = setup_device()))
		return r;

	/* (a) two descriptors chained into a loop */
	descs[0] = (struct desc){ (uintptr_t)buf, 16, F_NEXT, 1 };
	descs[1] = (struct desc){ (uintptr_t)buf + 16, 16, F_NEXT, 0 };
	if ((r = kick_expect_reset("descriptor loop", 1)))
		return r;

	/* (b) one descriptor far outside guest RAM */
	if ((r = setup_device()))
		return r;
	descs[0] = (struct desc){ 0xfffffffff000ull, 4096, 0, 0 };
	if ((r = kick_expect_reset("out-of-range address", 1)))
		return r;

	/* (c) avail idx 1000 entries ahead of a ring of 8 */
	if ((r = setup_device()))
		return r;
	descs[0] = (struct desc){ (uintptr_t)buf, 16, 0, 0 };
	if ((r = kick_expect_reset("avail index jump", 1000)))
		return r;

	if ((r = reset_device()))
		return r;
	puts_serial("HOSTILE OK\n");
	return EXIT_OK;
}
