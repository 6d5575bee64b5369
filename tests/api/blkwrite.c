/* blkwrite: a 64-bit guest (virtio-blk as in tests/guests/blkread.c) that writes NWRITES numbered
 * sectors to its disk, one at a time: write i goes to sector (i * STRIDE) % NSECT of the 8 MiB
 * disk (an odd stride: every sector once before any repeats), filled with 64-bit words
 * i << 32 | word, then prints i. It then prints DONE and leaves through the test port (status
 * 43). The API tier migrates it with --migrate-disks mid-way: the destination's image must end
 * equal to a run that was never migrated, and no number may be missing or repeated. */
#include <stdint.h>

#define QSIZE		8
#define NWRITES		3000
#define GAP		1500		/* loop turns between writes (emulated ring 0: ms each): seconds in all */
#define NSECT		16384u		/* 8 MiB */
#define STRIDE		2053u
#define WAIT_POLLS	10000000	/* status reads while waiting: seconds, not forever */
#define EXIT_OK		0x15

#include "cguest.h"

struct req_hdr { uint32_t type, reserved; uint64_t sector; };

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static struct used used __attribute__((aligned(4096)));
static struct req_hdr hdr __attribute__((aligned(16)));
static uint64_t data[64] __attribute__((aligned(512)));
static uint8_t status;
static struct vio vio;

int guest_main(void);

static int fail(const char *why)
{
	puts_serial("blkwrite: FAIL: ");
	puts_serial(why);
	puts_serial("\n");
	return EXIT_FAIL;
}

int guest_main(void)
{
	const char *why = vio_setup(&vio, VIRTIO_BLK_ID, descs, &avail, &used);

	if (why)
		return fail(why);
	puts_serial("READY\n");
	for (uint32_t i = 1; i <= NWRITES; i++) {
		int polls;

		hdr = (struct req_hdr){ .type = 1 /* VIRTIO_BLK_T_OUT */,
					.sector = (uint64_t)i * STRIDE % NSECT };
		for (uint32_t w = 0; w < 64; w++)
			data[w] = (uint64_t)i << 32 | w;
		status = 0xee;
		descs[0] = (struct desc){ (uintptr_t)&hdr, sizeof(hdr), F_NEXT, 1 };
		descs[1] = (struct desc){ (uintptr_t)data, sizeof(data), F_NEXT, 2 };
		descs[2] = (struct desc){ (uintptr_t)&status, 1, F_WRITE, 0 };
		avail.ring[(i - 1) % QSIZE] = 0;
		barrier();
		*(volatile uint16_t *)&avail.idx = (uint16_t)i;
		barrier();
		*vio.notify = 0;
		for (polls = 0; polls < WAIT_POLLS && *(volatile uint16_t *)&used.idx != (uint16_t)i;
		     polls++)
			__asm__ volatile("pause");
		if (*(volatile uint16_t *)&used.idx != (uint16_t)i)
			return fail("no completion");
		barrier();
		if (*(volatile uint8_t *)&status != 0)
			return fail("write status not OK");
		putdec(i);
		puts_serial("\n");
		for (int g = 0; g < GAP; g++)
			__asm__ volatile("" ::: "memory");
	}
	puts_serial("DONE\n");
	return EXIT_OK;
}
