/* virtio-balloon, the traditional memory balloon (virtio 1.2 §5.5): the host sets a target
 * (num_pages, 4 KiB pages), the guest inflates (hands pages over: ckvm drops their host memory with
 * MADV_DONTNEED) or deflates towards it and reports `actual`; optional statistics queue polled
 * every stats_interval_s seconds, optional DEFLATE_ON_OOM. */
#ifndef CKVM_VIRTIO_BALLOON_H
#define CKVM_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "core/evloop.h"
#include "core/guest_mem.h"
#include "virtio/virtio.h"

#define VBAL_QUEUE_SIZE	128
#define VBAL_NSTATS	10	/* VIRTIO_BALLOON_S_NR */

struct vballoon;

struct vballoon_params {
	const struct guest_mem *gm;
	struct evloop *ev;		/* the stats timer; may be NULL without stats */
	const char *name;		/* NULL = "balloon" */
	uint32_t target_mib;
	bool deflate_on_oom;
	bool stats;			/* offer the stats queue */
	uint32_t stats_interval_s;	/* 0: stats offered but not polled */
	uint16_t queue_size;		/* 0 = VBAL_QUEUE_SIZE */
};

struct vballoon_info {
	uint32_t target_mib, actual_mib;	/* target and what the guest reports it holds */
	uint32_t target_pages, actual_pages;
	bool deflate_on_oom;
	uint32_t stats_interval_s;
	bool stats_valid;			/* the guest sent statistics at least once */
	bool stat_set[VBAL_NSTATS];
	uint64_t stat[VBAL_NSTATS];		/* by VIRTIO_BALLOON_S_* tag */
	uint64_t inflated_pages, deflated_pages;	/* page numbers received, in total */
};

int vballoon_create(struct vballoon **out, const struct vballoon_params *p);
void vballoon_destroy(struct vballoon *b);
struct virtio_dev *vballoon_virtio(struct vballoon *b);
/* Its lifecycle (kind "virtio-balloon"): save/restore carry the target, actual and counters. */
struct device *vballoon_device(struct vballoon *b);
struct vballoon *vballoon_of_device(struct device *d);
/* A new target (config change interrupt). -EINVAL when it is not below the guest's RAM. Any thread. */
int vballoon_set_target(struct vballoon *b, uint32_t mib);
/* A new statistics polling interval (0 stops polling); -EINVAL when stats were not configured. */
int vballoon_set_stats_interval(struct vballoon *b, uint32_t seconds);
void vballoon_get_info(struct vballoon *b, struct vballoon_info *out);

#endif
