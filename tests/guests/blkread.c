/* blkread: a 64-bit guest with a minimal virtio-blk (modern, 1af4:1042) driver that reads sector 0
 * once: prints "read submitted", waits for the used entry, prints the status and the first byte
 * (the scratch disk is zeros) and exits through the test port. Built with -DBLK_RESET (blkreset),
 * it queues a GET_ID (no back-end I/O) before the read, and once the GET_ID is used (the device is
 * then at the read) resets the device with the read in flight (virtio 1.2 §2.4: the reset completes
 * once the device is done with it). The stop tests run both on a disk whose
 * back-end never answers: a stop must not wait forever for in-flight I/O, nor for a vCPU inside
 * that reset. PCI and virtio plumbing as in virtio_hostile.c (virtio 1.2 §4.1.4, §5.2.6). */
#include <stdint.h>

#ifdef BLK_RESET
#define EXIT_OK		0x16
#else
#define EXIT_OK		0x15
#endif
#define QSIZE		8
#define WAIT_POLLS	1000000		/* status reads (exits) while waiting: seconds, not forever */

#include "cguest.h"

struct req_hdr { uint32_t type, reserved; uint64_t sector; };

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static struct used used __attribute__((aligned(4096)));
static struct req_hdr hdr __attribute__((aligned(16)));
#ifdef BLK_RESET
static struct req_hdr id_hdr __attribute__((aligned(16)));
static uint8_t id[20], id_status;
#endif
static uint8_t data[512] __attribute__((aligned(512)));
static uint8_t status = 0xee;

static struct vio vio;

int guest_main(void);

static int fail(const char *why)
{
	puts_serial("blkread: FAIL: ");
	puts_serial(why);
	puts_serial("\n");
	return EXIT_FAIL;
}

int guest_main(void)
{
	const char *why = vio_setup(&vio, VIRTIO_BLK_ID, descs, &avail, &used);

	if (why)
		return fail(why);

	hdr = (struct req_hdr){ .type = 0 /* VIRTIO_BLK_T_IN */, .sector = 0 };
	data[0] = 0x5a;
	descs[0] = (struct desc){ (uintptr_t)&hdr, sizeof(hdr), F_NEXT, 1 };
	descs[1] = (struct desc){ (uintptr_t)data, sizeof(data), F_NEXT | F_WRITE, 2 };
	descs[2] = (struct desc){ (uintptr_t)&status, 1, F_WRITE, 0 };
#ifdef BLK_RESET
	id_hdr = (struct req_hdr){ .type = 8 /* VIRTIO_BLK_T_GET_ID */ };
	descs[3] = (struct desc){ (uintptr_t)&id_hdr, sizeof(id_hdr), F_NEXT, 4 };
	descs[4] = (struct desc){ (uintptr_t)id, sizeof(id), F_NEXT | F_WRITE, 5 };
	descs[5] = (struct desc){ (uintptr_t)&id_status, 1, F_WRITE, 0 };
	avail.ring[0] = 3;
	avail.ring[1] = 0;
	barrier();
	*(volatile uint16_t *)&avail.idx = 2;
#else
	avail.ring[0] = 0;
	barrier();
	*(volatile uint16_t *)&avail.idx = 1;
#endif
	barrier();
	*vio.notify = 0;
	puts_serial("blkread: read submitted\n");
#ifdef BLK_RESET
	for (int i = 0; i < WAIT_POLLS && *(volatile uint16_t *)&used.idx < 1; i++)
		(void)vio_rd8(&vio, C_STATUS);
	for (int i = 0; i < 200; i++)	/* a moment for the device to take up the read */
		(void)vio_rd8(&vio, C_STATUS);
	vio_wr8(&vio, C_STATUS, 0);
	if (vio_rd8(&vio, C_STATUS) != 0)
		return fail("status not 0 after reset");
	puts_serial("blkread: reset with the read in flight\n");
	return EXIT_OK;
#endif
	for (int i = 0; i < WAIT_POLLS && *(volatile uint16_t *)&used.idx != 1; i++)
		(void)vio_rd8(&vio, C_STATUS);
	if (*(volatile uint16_t *)&used.idx != 1)
		return fail("no completion");
	barrier();
	puts_serial("blkread: status ");
	puthex8(*(volatile uint8_t *)&status);
	puts_serial(", first byte ");
	puthex8(data[0]);
	puts_serial("\n");
	return EXIT_OK;
}
