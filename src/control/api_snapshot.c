/* Firecracker's snapshot calls (swagger: SnapshotCreateParams, SnapshotLoadParams): PUT
 * /snapshot/create on a paused VM through struct api_vmm, and PUT /snapshot/load, which starts the
 * VM configured by the pre-boot calls from a snapshot (its state checked against that
 * configuration by the board). API thread, a->lock held. */
#include "control/api_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/api_json.h"
#include "log.h"

void api_snapshot_create(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	static char state[PATH_MAX], mem[PATH_MAX];
	char type[16] = "Full", ver[32], err[512] = "";
	const struct jfield f[] = {
		{ "snapshot_path", JF_STRING, true, state, PATH_MAX - 8, 0, 0, NULL },
		{ "mem_file_path", JF_STRING, true, mem, PATH_MAX - 8, 0, 0, NULL },
		{ "snapshot_type", JF_STRING, false, type, sizeof(type) - 1, 0, 0, NULL },
		{ "version", JF_STRING, false, ver, sizeof(ver) - 1, 0, 0, NULL },
	};
	int ret;

	(void)id;
	if (api_json_fields(body, "snapshot", f, 4, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	if (strcmp(type, "Full") && strcmp(type, "Diff"))
		return api_reply_fault(rep, 400, "snapshot: snapshot_type must be \"Full\" or \"Diff\"");
	if (!a->paused)
		return api_reply_fault(rep, 400, "snapshot: the VM must be paused first (PATCH /vm "
				       "{\"state\": \"Paused\"})");
	if (!strcmp(state, mem))
		return api_reply_fault(rep, 400, "snapshot: snapshot_path and mem_file_path are one file");
	ret = a->vmm.snapshot ? a->vmm.snapshot(a->vmm.ctx, state, mem, !strcmp(type, "Diff"), err, sizeof(err)) : -ENOTSUP;
	if (ret)
		return api_reply_fault(rep, 400, "snapshot: %s", err[0] ? err : strerror(-ret));
	log_info("api", "%s snapshot written: %s, %s", type, state, mem);
	rep->status = 204;
}

/* network_overrides: [{iface_id, host_dev_name}]: the configured interface gets another tap. */
static int net_overrides(struct api *a, struct json_object *arr, char *err, size_t errlen)
{
	size_t n, i;
	int j;

	if (!json_object_is_type(arr, json_type_array))
		return snprintf(err, errlen, "snapshot load: network_overrides must be an array"), -EINVAL;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		char iface[VMCONF_ID_MAX + 1], tap[IFNAMSIZ + 16];
		const struct jfield f[] = {
			{ "iface_id", JF_STRING, true, iface, VMCONF_ID_MAX, 0, 0, NULL },
			{ "host_dev_name", JF_STRING, true, tap, IFNAMSIZ - 1, 0, 0, NULL },
		};

		if (api_json_fields(json_object_array_get_idx(arr, i), "network_overrides", f, 2, err, errlen))
			return -EINVAL;
		for (j = 0; j < a->vc.nnics && strcmp(a->vc.nics[j].id, iface); j++)
			;
		if (j == a->vc.nnics)
			return snprintf(err, errlen, "snapshot load: network_overrides: no interface %s "
					"(configure it with PUT /network-interfaces first)", iface), -EINVAL;
		snprintf(a->vc.nics[j].tap, sizeof(a->vc.nics[j].tap), "%s", tap);
	}
	return 0;
}

void api_snapshot_load(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	struct json_object *backend = NULL, *nets = NULL, *rest;
	char btype[16] = "", bpath[PATH_MAX] = "", err[512] = "";
	bool resume = false, has_mem_path = false, has_backend;
	const struct jfield f[] = {
		{ "snapshot_path", JF_STRING, true, a->snap_state, PATH_MAX - 1, 0, 0, NULL },
		{ "mem_file_path", JF_STRING, false, bpath, PATH_MAX - 1, 0, 0, &has_mem_path },
		{ "resume_vm", JF_BOOL, false, &resume, 0, 0, 0, NULL },
		{ "enable_diff_snapshots", JF_BOOL, false, &(bool){ 0 }, 0, 0, 0, NULL },
		{ "track_dirty_pages", JF_BOOL, false, &(bool){ 0 }, 0, 0, 0, NULL },
	};
	const struct jfield fb[] = {
		{ "backend_type", JF_STRING, true, btype, sizeof(btype) - 1, 0, 0, NULL },
		{ "backend_path", JF_STRING, true, bpath, PATH_MAX - 1, 0, 0, NULL },
	};
	int ret = 0;

	(void)id;
	if (!json_object_is_type(body, json_type_object))
		return api_reply_fault(rep, 400, "snapshot load: the body must be an object");
	/* The nested members are checked apart; the flat ones by the field table. */
	rest = json_object_new_object();
	json_object_object_foreach(body, key, val) {
		if (!strcmp(key, "mem_backend"))
			backend = val;
		else if (!strcmp(key, "network_overrides"))
			nets = val;
		else
			json_object_object_add(rest, key, json_object_get(val));
	}
	if (api_json_fields(rest, "snapshot load", f, 5, err, sizeof(err)))
		ret = -EINVAL;
	json_object_put(rest);
	if (ret)
		return api_reply_fault(rep, 400, "%s", err);
	has_backend = backend && !json_object_is_type(backend, json_type_null);
	if (has_backend == has_mem_path)
		return api_reply_fault(rep, 400, "snapshot load: give mem_backend (or the older "
				       "mem_file_path), not both");
	if (has_backend && api_json_fields(backend, "mem_backend", fb, 2, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	if (has_backend && strcmp(btype, "File"))
		return api_reply_fault(rep, 400, "snapshot load: mem_backend.backend_type \"%s\": only "
				       "\"File\" is supported", btype);
	if (nets && !json_object_is_type(nets, json_type_null) &&
	    net_overrides(a, nets, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	snprintf(a->snap_mem, sizeof(a->snap_mem), "%s", bpath);
	a->snap_paused = !resume;
	a->snap_load = true;
	api_instance_start(a, rep);
	if (rep->status >= 400)
		a->snap_load = false;
}
