/* Snapshot and restore of the whole board (board_snapshot.c): the state file (snapshot_fmt) and the
 * guest-RAM file. */
#ifndef CKVM_X86_BOARD_SNAPSHOT_H
#define CKVM_X86_BOARD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

struct board;

/* The VM is paused (vCPUs parked, devices quiet): flush the writable disks, write the RAM file
 * (zero pages left as holes) and the state file, each under a temporary name renamed into place
 * once complete and synced (RAM first, so a state file is never there without its RAM). API
 * thread, under b->lifecycle_lock. diff: only the pages written since the previous snapshot this
 * process took, into that snapshot's RAM file (mem_path must be it); the result is again a whole
 * snapshot. 0 or -errno with one sentence in err. */
int board_snapshot(struct board *b, const char *state_path, const char *mem_path, bool diff,
		   char *err, size_t errlen);
/* After board_create, before board_run (main thread, nothing runs yet): read and check the whole
 * state file, check the machine's shape against it, map the RAM file MAP_PRIVATE over guest RAM
 * (pages load on first touch), apply the VM, vCPU and device state. 0 or -errno after one logged
 * line; b->bad_input when the file or the options were at fault. */
int board_restore(struct board *b, const char *state_path, const char *mem_path);

/* The configuration's restore, if any (--restore DIR, or PUT /snapshot/load's paths), and with
 * restore_paused the VM left paused (vCPUs park before their first instruction). 0 when there is
 * nothing to restore. */
int board_restore_config(struct board *b);

/* Live migration (board_migrate.c) reuses these. The state stream of a paused VM (vCPUs, VM,
 * devices, RAM layout; no RAM) into w. 0 or -errno with one sentence in err. */
struct snap_writer;
int board_state_build(struct board *b, struct snap_writer *w, char *err, size_t errlen);
/* Parse, check against this VM and apply a state stream; guest RAM is already in place. Nothing
 * is applied unless the whole stream checks out. 0 or -errno with one sentence in err. */
int board_state_apply(struct board *b, const void *buf, size_t len, char *err, size_t errlen);
/* fsync every writable disk image. */
int board_flush_disks(struct board *b, char *err, size_t errlen);
/* KVM's dirty log on for every slot (a later Diff snapshot then needs a Full one first). */
int board_dirty_log_start(struct board *b);
/* Slot's pages written since the last call (KVM clears its log as it hands it over), with
 * with_touched ORed with the pages ckvm's devices were handed. calloc'ed bitmap, NULL on failure. */
unsigned long *board_dirty_pages(struct board *b, int slot, bool with_touched);

#endif
