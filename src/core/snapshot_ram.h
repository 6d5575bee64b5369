/* The snapshot's RAM file (snapshot_ram.c) and the state file's atomic write. API thread, VM
 * paused. Each returns 0 or -errno. */
#ifndef CKVM_SNAPSHOT_RAM_H
#define CKVM_SNAPSHOT_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* All of RAM into path (via path.tmp): its size, all-zero pages left as holes (never-touched
 * anonymous pages skipped unread when there is no swap). *written: bytes of data written. */
int snap_ram_write_full(struct vm *vm, const char *path, uint64_t *written);
/* The pages written since snap_ram_dirty_start (KVM's log) or ever handed to a device (guest_mem's
 * touched marks), into the existing RAM file at path (renamed to path.tmp meanwhile). */
int snap_ram_write_diff(struct vm *vm, const char *path, uint64_t *written);
/* Switch KVM's dirty log on (first call), else restart it from now. */
int snap_ram_dirty_start(struct vm *vm);
bool snap_ram_dirty_on(void);
/* Live migration: slot's pages written since the last read of the log (which this read restarts),
 * with with_touched ORed with the devices' touched marks. calloc'ed bitmap, NULL on failure. */
unsigned long *snap_ram_dirty_pages(struct vm *vm, int slot, bool with_touched);
/* Guest RAM is now a private mapping of a RAM file: its pages are read, never skipped. */
void snap_ram_file_backed(void);
/* data into path through path.tmp: written, synced, renamed. */
int snap_file_write(const char *path, const void *data, size_t len);

#endif
