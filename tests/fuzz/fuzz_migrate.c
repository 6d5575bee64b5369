/* libFuzzer target: the live-migration stream receiver (core/migrate_stream.c) and the state it
 * hands back (core/snapshot_fmt.c's parser), as a destination reads them from a hostile socket.
 * Guest RAM is two small regions with a hole between them: ASan catches any write outside. Two
 * disks (--migrate-disks' DISK records) are exact-size heap buffers: ASan catches a block written
 * past one, and the write callback aborts on a block the receiver should have refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/guest_mem.h"
#include "core/migrate_stream.h"
#include "core/snapshot_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (64 << 10)

static const uint64_t disk_sizes[2] = { 3 * 4096 + 512, 64 << 10 };
static uint8_t *disks[2];

static int disk_write(void *ctx, uint32_t disk, uint64_t off, const void *data, uint32_t len)
{
	(void)ctx;
	if (disk >= 2 || off > disk_sizes[disk] || len > disk_sizes[disk] - off)
		abort();	/* the receiver's checks let a block outside its image through */
	memcpy(disks[disk] + off, data, len);
	return 0;
}

static const struct mig_disks fdisks = { 2, disk_sizes, disk_write, NULL };

struct memsrc {
	const uint8_t *p;
	size_t len, at;
};

/* Reads come in small, uneven pieces, as from a socket. */
static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct memsrc *m = ctx;
	size_t n = len < m->len - m->at ? len : m->len - m->at;

	if (n > 1 + (m->at % 4093))
		n = 1 + (m->at % 4093);
	memcpy(buf, m->p + m->at, n);
	m->at += n;
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static uint8_t *ram0, *ram1;
	static struct snap_parsed p;
	struct memsrc m = { data, size, 0 };
	struct mig_in_stats st;
	uint8_t *state = NULL;
	size_t len = 0;
	char err[256];

	if (!ram0) {
		ram0 = malloc(RAM);
		ram1 = malloc(RAM);
		gm_add_region(&gm, 0, RAM, ram0);
		gm_add_region(&gm, 1 << 20, RAM, ram1);
		disks[0] = malloc(disk_sizes[0]);
		disks[1] = malloc(disk_sizes[1]);
	}
	if (mig_receive(mem_read, &m, &gm, 1, &fdisks, &state, &len, &st, err, sizeof(err)))
		return 0;
	(void)snap_parse(state, len, &p, err, sizeof(err));
	free(state);
	return 0;
}
