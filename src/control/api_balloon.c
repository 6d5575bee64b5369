/* The balloon calls in Firecracker's shapes (swagger firecracker.yaml: Balloon, BalloonUpdate,
 * BalloonStats, BalloonStatsUpdate). Before boot they edit the configuration (a->vc.balloon); on a
 * running VM they go through api_vmm.balloon_set/balloon_get to the device. A VM started without a
 * balloon answers 400, as Firecracker does. API thread, a->lock held. */
#include "control/api_balloon.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "control/api_int.h"
#include "control/api_json.h"
#include "virtio/virtio_balloon.h"

#define AMOUNT_MAX	VMCONF_BALLOON_MIB_MAX
#define INTERVAL_MAX	VMCONF_BALLOON_INTERVAL_MAX

/* The body is checked by vmconf_balloon, which --config-file's "balloon" object goes through too. */
void api_put_balloon(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[256];

	(void)id;
	if (vmconf_balloon(&a->vc, body, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	rep->status = 204;
}

/* What the running VM's call said: 204, or 400 naming why. */
static void balloon_reply(struct api_reply *rep, int ret, const char *what)
{
	if (!ret)
		rep->status = 204;
	else if (ret == -ENODEV)
		api_reply_fault(rep, 400, "the VM has no balloon device");
	else if (ret == -EINVAL)
		api_reply_fault(rep, 400, "%s", what);
	else
		api_reply_fault(rep, 400, "balloon: %s", strerror(-ret));
}

void api_patch_balloon(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	uint64_t amount = 0;
	const struct jfield f[] = { { "amount_mib", JF_U64, true, &amount, 0, 0, AMOUNT_MAX, NULL } };
	char err[256];
	int ret;

	(void)id;
	if (api_json_fields(body, "balloon", f, 1, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	ret = a->vmm.balloon_set ? a->vmm.balloon_set(a->vmm.ctx, (int64_t)amount, -1) : -ENODEV;
	if (!ret)
		a->vc.balloon.size_mib = amount;
	balloon_reply(rep, ret, "balloon: amount_mib must be less than the guest's memory");
}

void api_patch_balloon_stats(struct api *a, const char *id, struct json_object *body,
			     struct api_reply *rep)
{
	uint64_t interval = 0;
	const struct jfield f[] = {
		{ "stats_polling_interval_s", JF_U64, true, &interval, 0, 0, INTERVAL_MAX, NULL },
	};
	char err[256];
	int ret;

	(void)id;
	if (api_json_fields(body, "balloon statistics", f, 1, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	ret = a->vmm.balloon_set ? a->vmm.balloon_set(a->vmm.ctx, -1, (int64_t)interval) : -ENODEV;
	if (!ret)
		a->vc.balloon.stats_interval_s = (uint32_t)interval;
	balloon_reply(rep, ret, "balloon: statistics were not enabled when the VM started "
		      "(stats_polling_interval_s 0)");
}

void api_get_balloon(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	struct json_object *o;
	struct vballoon_info in;
	uint64_t amount = a->vc.balloon.size_mib, interval = a->vc.balloon.stats_interval_s;
	bool oom = a->vc.balloon.deflate_on_oom;

	(void)id, (void)body;
	if (a->phase == PH_RUNNING && a->vmm_set && a->vmm.balloon_get &&
	    !a->vmm.balloon_get(a->vmm.ctx, &in)) {
		amount = in.target_mib;
		interval = in.stats_interval_s;
		oom = in.deflate_on_oom;
	} else if (!a->vc.balloon.on || a->phase == PH_RUNNING) {
		return api_reply_fault(rep, 400, "no balloon device is configured");
	}
	o = json_object_new_object();
	json_object_object_add(o, "amount_mib", json_object_new_int64((int64_t)amount));
	json_object_object_add(o, "deflate_on_oom", json_object_new_boolean(oom));
	json_object_object_add(o, "stats_polling_interval_s", json_object_new_int64((int64_t)interval));
	api_reply_json(rep, o);
}

void api_get_balloon_stats(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	static const char *const names[VBAL_NSTATS] = {
		"swap_in", "swap_out", "major_faults", "minor_faults", "free_memory", "total_memory",
		"available_memory", "disk_caches", "hugetlb_allocations", "hugetlb_failures",
	};
	struct vballoon_info in;
	struct json_object *o;
	int ret;

	(void)id, (void)body;
	ret = a->vmm.balloon_get ? a->vmm.balloon_get(a->vmm.ctx, &in) : -ENODEV;
	if (ret)
		return balloon_reply(rep, ret, "");
	if (!in.stats_interval_s && !in.stats_valid)
		return api_reply_fault(rep, 400, "balloon statistics are not enabled");
	o = json_object_new_object();
	json_object_object_add(o, "target_pages", json_object_new_int64(in.target_pages));
	json_object_object_add(o, "actual_pages", json_object_new_int64(in.actual_pages));
	json_object_object_add(o, "target_mib", json_object_new_int64(in.target_mib));
	json_object_object_add(o, "actual_mib", json_object_new_int64(in.actual_mib));
	for (int i = 0; i < VBAL_NSTATS; i++)
		if (in.stat_set[i])	/* only what the guest reported, as Firecracker does */
			json_object_object_add(o, names[i], json_object_new_int64((int64_t)in.stat[i]));
	api_reply_json(rep, o);
}
