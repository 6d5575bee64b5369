/* Live migration's progress as the API reports it (GET /migrate): filled by the board's migration
 * (arch/x86/board_migrate.c), read through struct api_vmm. Plain data, any thread. */
#ifndef CKVM_MIGRATE_H
#define CKVM_MIGRATE_H

#include <stdint.h>

struct migrate_progress {
	char state[16];		/* "none", "active", "completed", "failed" */
	char phase[16];		/* "connecting", "full", "dirty", "switchover", "confirm", "" */
	unsigned round;		/* 0: the whole RAM; 1..: dirty rounds */
	uint64_t bytes;		/* sent so far */
	uint64_t pages_sent, remaining_pages;
	uint64_t bandwidth_bps;	/* measured in the last round, bytes a second */
	uint64_t downtime_us;	/* pause to the destination's confirmation (once completed) */
	uint64_t total_ms;
	char error[256];	/* once failed: why */
};

#endif
