/* Live migration of the board (board_migrate.c): the source's pre-copy thread and the
 * destination's receive before the first instruction. */
#ifndef CKVM_X86_BOARD_MIGRATE_H
#define CKVM_X86_BOARD_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/migrate.h"

struct board;

/* Source, API thread: connect to url and start the migration thread (all RAM while the guest
 * runs, rounds of dirty pages, pause, the rest and the state, the destination's confirmation,
 * then the VM stops and ckvm exits 0; any failure resumes the guest here). bandwidth_mbps 0: no
 * limit. disks (--migrate-disks): the writable images go too, with dirty-block tracking. 0 or
 * -errno with one sentence in err (nothing started). */
int board_migrate_start(struct board *b, const char *url, unsigned downtime_ms,
			unsigned bandwidth_mbps, bool disks, char *err, size_t errlen);
void board_migrate_progress(struct board *b, struct migrate_progress *out);
/* Main thread, once board_run returned: a migration still going is abandoned (the guest is
 * gone) and its thread joined. */
void board_migrate_finish(struct board *b);

/* Destination, main thread before board_create: with --incoming, writable disks open unlocked
 * (the source holds their locks until the switch-over). */
struct vm_config;
void board_migrate_before_create(const struct vm_config *cfg);
/* Destination, main thread after board_create: with --incoming, accept one source, receive RAM
 * and state, apply them, confirm. 0 or -errno after one logged line (no VM may start then). */
int board_migrate_incoming(struct board *b);

#endif
