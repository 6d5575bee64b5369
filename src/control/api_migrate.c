/* Live migration over the API: PUT /migrate {destination_url, downtime_ms, bandwidth_mbps,
 * migrate_disks} starts
 * it on the board's migration thread (board_migrate.h) and answers at once; GET /migrate reports
 * its progress (state, round, bytes, remaining pages, downtime). API thread, a->lock held. */
#include "control/api_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "control/api_json.h"
#include "core/migrate.h"
#include "log.h"

void api_migrate_start(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char url[256], err[512] = "";
	uint64_t downtime = 300, bw = 0;
	bool disks = false;
	const struct jfield f[] = {
		{ "destination_url", JF_STRING, true, url, sizeof(url) - 1, 0, 0, NULL },
		{ "downtime_ms", JF_U64, false, &downtime, 0, 1, 60000, NULL },
		{ "bandwidth_mbps", JF_U64, false, &bw, 0, 0, 1000000, NULL },
		{ "migrate_disks", JF_BOOL, false, &disks, 0, 0, 0, NULL },
	};
	int ret;

	(void)id;
	if (api_json_fields(body, "migrate", f, 4, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	if (strncmp(url, "tcp:", 4) && strncmp(url, "unix:", 5))
		return api_reply_fault(rep, 400, "migrate: destination_url must be tcp:HOST:PORT or "
				       "unix:PATH");
	ret = a->vmm.migrate ? a->vmm.migrate(a->vmm.ctx, url, (unsigned)downtime, (unsigned)bw, disks, err,
					      sizeof(err)) : -ENOTSUP;
	if (ret)
		return api_reply_fault(rep, 400, "migrate: %s", err[0] ? err : strerror(-ret));
	rep->status = 204;
}

void api_migrate_get(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	struct migrate_progress p = { .state = "none" };
	struct json_object *o = json_object_new_object();

	(void)id, (void)body;
	if (a->vmm.migrate_progress)
		a->vmm.migrate_progress(a->vmm.ctx, &p);
	json_object_object_add(o, "state", json_object_new_string(p.state));
	json_object_object_add(o, "phase", json_object_new_string(p.phase));
	json_object_object_add(o, "round", json_object_new_int64(p.round));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)p.bytes));
	json_object_object_add(o, "pages_sent", json_object_new_int64((int64_t)p.pages_sent));
	json_object_object_add(o, "remaining_pages", json_object_new_int64((int64_t)p.remaining_pages));
	json_object_object_add(o, "bandwidth_mbps",
			       json_object_new_int64((int64_t)(p.bandwidth_bps * 8 / 1000000)));
	json_object_object_add(o, "downtime_ms", json_object_new_double((double)p.downtime_us / 1000));
	json_object_object_add(o, "total_ms", json_object_new_int64((int64_t)p.total_ms));
	if (p.error[0])
		json_object_object_add(o, "error", json_object_new_string(p.error));
	api_reply_json(rep, o);
}
