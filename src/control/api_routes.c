/* The request table of Firecracker's API (swagger firecracker.yaml paths): method, path, whether
 * the call is pre-boot only (400 naming why once the VM runs) or needs a running VM, and one small
 * handler each that calls vmconf (configuration) or struct api_vmm (the VM). API thread, a->lock. */
#include "control/api_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "control/api_balloon.h"
#include "control/api_json.h"
#include "log.h"

#define PAUSE_TIMEOUT_NS 1000000000LL

enum when { ANYTIME, PREBOOT, RUNNING };

struct route {
	enum http_method method;
	const char *path;	/* with has_id: the prefix before the id ("/drives/") */
	bool has_id, body;
	enum when when;
	void (*fn)(struct api *a, const char *id, struct json_object *body, struct api_reply *rep);
};

void api_reply_fault(struct api_reply *rep, int status, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "fault_message", json_object_new_string(msg));
	rep->status = status;
	free(rep->body);
	rep->body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void api_reply_json(struct api_reply *rep, struct json_object *obj)
{
	rep->status = 200;
	free(rep->body);
	rep->body = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

/* 204, or 400 with what a configuration call said. */
static void reply_ret(struct api_reply *rep, int ret, const char *err)
{
	if (ret)
		api_reply_fault(rep, 400, "%s", err);
	else
		rep->status = 204;
}

static const char *state_name(const struct api *a)
{
	if (a->phase != PH_RUNNING)
		return "Not started";
	return a->paused ? "Paused" : "Running";
}

/* ---- instance ---- */

static void get_root(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	struct json_object *o = json_object_new_object();

	(void)id, (void)body;
	json_object_object_add(o, "id", json_object_new_string(a->id));
	json_object_object_add(o, "state", json_object_new_string(state_name(a)));
	json_object_object_add(o, "vmm_version", json_object_new_string(CKVM_VERSION));
	json_object_object_add(o, "app_name", json_object_new_string("ckvm"));
	api_reply_json(rep, o);
}

static void get_version(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	struct json_object *o = json_object_new_object();

	(void)a, (void)id, (void)body;
	json_object_object_add(o, "firecracker_version", json_object_new_string(CKVM_VERSION));
	json_object_object_add(o, "ckvm_version", json_object_new_string(CKVM_VERSION));
	api_reply_json(rep, o);
}

static void get_vm_config(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	struct json_object *o = vmconf_json(&a->vc), *l = api_logger_json(a), *m = api_metrics_json(a);

	(void)id, (void)body;
	if (l)
		json_object_object_add(o, "logger", l);
	if (m)
		json_object_object_add(o, "metrics", m);
	api_reply_json(rep, o);
}

static void patch_vm(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char state[16], err[256];
	const struct jfield f[] = { { "state", JF_STRING, true, state, sizeof(state) - 1, 0, 0, NULL } };
	uint64_t ns = 0;
	int ret;

	(void)id;
	if (api_json_fields(body, "vm", f, 1, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	if (!strcmp(state, "Paused")) {
		ret = a->vmm.pause ? a->vmm.pause(a->vmm.ctx, &ns) : -ENOTSUP;
		if (!ret) {
			if (!a->paused)
				log_info("api", "VM paused: every vCPU out of KVM_RUN in %llu us",
					 (unsigned long long)(ns / 1000));
			a->paused = true;
		}
	} else if (!strcmp(state, "Resumed")) {
		ret = a->vmm.resume ? a->vmm.resume(a->vmm.ctx) : -ENOTSUP;
		if (!ret && a->paused)
			log_info("api", "VM resumed");
		if (!ret)
			a->paused = false;
	} else {
		return api_reply_fault(rep, 400, "vm: state must be \"Paused\" or \"Resumed\"");
	}
	if (ret == -ETIMEDOUT)
		return api_reply_fault(rep, 400, "vm: the vCPUs did not all stop within 1 s (one is busy "
				       "in a device); the VM runs on");
	if (ret == -ESHUTDOWN)
		return api_reply_fault(rep, 400, "vm: the VM is stopping");
	if (ret == -EBUSY)
		return api_reply_fault(rep, 400, "vm: a device did not quiesce within 1 s (a disk request "
				       "stuck in its back-end?); the VM runs on");
	if (ret == -EAGAIN)
		return api_reply_fault(rep, 400, "vm: the vCPUs have not started yet; try again");
	if (ret)
		return api_reply_fault(rep, 400, "vm: %s failed: %s", state, strerror(-ret));
	rep->status = 204;
}

/* InstanceStart: build the configuration through the command line's checks, hand it to main and
 * answer once main has built the VM (or failed to). */
void api_instance_start(struct api *a, struct api_reply *rep)
{
	char err[512];
	int ret;

	if (a->phase != PH_CONFIG)
		return api_reply_fault(rep, 400, "InstanceStart: %s", a->from_flags ?
				       "the VM was configured and started by `ckvm run` flags" :
				       "the VM has already been started");
	if ((ret = vmconf_build(&a->vc, &a->cfg, err, sizeof(err))) ||
	    (ret = api_outputs_check(a, &a->cfg, err, sizeof(err))))
		return api_reply_fault(rep, 400, "InstanceStart: %s", err);
	if (a->snap_load) {	/* PUT /snapshot/load */
		a->cfg.restore_state = a->snap_state;
		a->cfg.restore_mem = a->snap_mem;
		a->cfg.restore_paused = a->snap_paused;
	}
	a->run_cfg = &a->cfg;
	a->phase = PH_STARTING;
	if (a->sig_fd >= 0) {	/* from now on the board's signal handling takes over */
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->sig_fd, NULL);
		close(a->sig_fd);
		a->sig_fd = -1;
	}
	pthread_cond_broadcast(&a->cond);
	rep->defer = true;
}

static void put_actions(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char action[32], err[256];
	const struct jfield f[] = {
		{ "action_type", JF_STRING, true, action, sizeof(action) - 1, 0, 0, NULL },
	};
	int ret;

	(void)id;
	if (api_json_fields(body, "actions", f, 1, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	if (!strcmp(action, "InstanceStart"))
		return api_instance_start(a, rep);
	if (!strcmp(action, "FlushMetrics")) {
		if (a->metrics_fd < 0)
			return api_reply_fault(rep, 400, "FlushMetrics: no metrics file (PUT /metrics first)");
		ret = api_metrics_flush(a);
		if (ret)
			return api_reply_fault(rep, 400, "FlushMetrics: %s", strerror(-ret));
		rep->status = 204;
		return;
	}
	if (!strcmp(action, "Shutdown") && a->phase == PH_CONFIG) {	/* ckvm's own action */
		a->cancel = true;
		pthread_cond_broadcast(&a->cond);
		rep->status = 204;
		return;
	}
	if (strcmp(action, "SendCtrlAltDel") && strcmp(action, "Shutdown"))
		return api_reply_fault(rep, 400, "actions: action_type must be InstanceStart, "
				       "SendCtrlAltDel, FlushMetrics or Shutdown");
	if (a->phase != PH_RUNNING || !a->vmm_set)
		return api_reply_fault(rep, 400, "%s: the VM is not running", action);
	if (!strcmp(action, "Shutdown"))
		ret = a->vmm.shutdown ? a->vmm.shutdown(a->vmm.ctx) : -ENOTSUP;
	else
		ret = a->vmm.ctrl_alt_del ? a->vmm.ctrl_alt_del(a->vmm.ctx) : -ENOTSUP;
	if (ret)
		return api_reply_fault(rep, 400, "%s: %s", action, strerror(-ret));
	rep->status = 204;
}

/* ---- configuration ---- */

static void get_machine(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	(void)id, (void)body;
	api_reply_json(rep, vmconf_machine_json(&a->vc));
}

static void put_machine(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[256];

	(void)id;
	reply_ret(rep, vmconf_machine(&a->vc, body, false, err, sizeof(err)), err);
}

static void patch_machine(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[256];

	(void)id;
	reply_ret(rep, vmconf_machine(&a->vc, body, true, err, sizeof(err)), err);
}

static void put_boot(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[512];

	(void)id;
	reply_ret(rep, vmconf_boot_source(&a->vc, body, err, sizeof(err)), err);
}

static void put_drive(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[512];

	reply_ret(rep, vmconf_drive(&a->vc, id, body, err, sizeof(err)), err);
}

/* A running drive's new backing file (and its capacity, told to the guest) through the board. */
static void patch_drive(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	static char path[PATH_MAX];
	char drive_id[VMCONF_ID_MAX + 1], err[512] = "";
	bool has_path;
	const struct jfield f[] = {
		{ "drive_id", JF_STRING, true, drive_id, VMCONF_ID_MAX, 0, 0, NULL },
		{ "path_on_host", JF_STRING, false, path, PATH_MAX - 1, 0, 0, &has_path },
		{ "rate_limiter", JF_IGNORE_NULL, false, NULL, 0, 0, 0, NULL },
	};
	int idx, ret;

	if (api_json_fields(body, "drive", f, 3, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	if (strcmp(id, drive_id))
		return api_reply_fault(rep, 400, "drive: the id in the path (%s) is not the body's (%s)",
				       id, drive_id);
	if ((idx = vmconf_drive_index(&a->vc, id)) < 0)
		return api_reply_fault(rep, 400, "drive %s: no such drive", id);
	if (!has_path) {
		rep->status = 204;	/* nothing to change */
		return;
	}
	ret = a->vmm.drive_swap ? a->vmm.drive_swap(a->vmm.ctx, idx, path, err, sizeof(err)) : -ENOTSUP;
	if (ret == -ENOTSUP)
		return api_reply_fault(rep, 400, "drive %s: changing path_on_host of a running drive is "
				       "not supported yet", id);
	if (ret)
		return api_reply_fault(rep, 400, "drive %s: %s", id, err[0] ? err : strerror(-ret));
	snprintf(a->vc.drives[vmconf_drive_find(&a->vc, id)].path, PATH_MAX, "%s", path);
	rep->status = 204;
}

static void put_nic(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[512];

	reply_ret(rep, vmconf_nic(&a->vc, id, body, err, sizeof(err)), err);
}

static void patch_nic(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	(void)a, (void)body;
	api_reply_fault(rep, 400, "network-interface %s: rate limiters are not supported", id);
}

static void put_logger(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[512];

	(void)id;
	reply_ret(rep, api_logger_put(a, body, err, sizeof(err)), err);
}

static void put_metrics(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[512];

	(void)id;
	reply_ret(rep, api_metrics_put(a, body, err, sizeof(err)), err);
}

static void put_vsock(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[256];

	(void)id;
	reply_ret(rep, vmconf_vsock(&a->vc, body, err, sizeof(err)), err);
}

static void put_entropy(struct api *a, const char *id, struct json_object *body, struct api_reply *rep)
{
	char err[256];

	(void)id;
	reply_ret(rep, vmconf_entropy(&a->vc, body, err, sizeof(err)), err);
}

static const struct route routes[] = {
	{ HTTP_GET, "/", false, false, ANYTIME, get_root },
	{ HTTP_GET, "/version", false, false, ANYTIME, get_version },
	{ HTTP_PUT, "/actions", false, true, ANYTIME, put_actions },
	{ HTTP_GET, "/vm/config", false, false, ANYTIME, get_vm_config },
	{ HTTP_PATCH, "/vm", false, true, RUNNING, patch_vm },
	{ HTTP_GET, "/machine-config", false, false, ANYTIME, get_machine },
	{ HTTP_PUT, "/machine-config", false, true, PREBOOT, put_machine },
	{ HTTP_PATCH, "/machine-config", false, true, PREBOOT, patch_machine },
	{ HTTP_PUT, "/boot-source", false, true, PREBOOT, put_boot },
	{ HTTP_PUT, "/drives/", true, true, PREBOOT, put_drive },
	{ HTTP_PATCH, "/drives/", true, true, RUNNING, patch_drive },
	{ HTTP_PUT, "/network-interfaces/", true, true, PREBOOT, put_nic },
	{ HTTP_PATCH, "/network-interfaces/", true, true, RUNNING, patch_nic },
	{ HTTP_PUT, "/logger", false, true, ANYTIME, put_logger },
	{ HTTP_PUT, "/metrics", false, true, ANYTIME, put_metrics },
	{ HTTP_PUT, "/snapshot/create", false, true, RUNNING, api_snapshot_create },
	{ HTTP_PUT, "/snapshot/load", false, true, PREBOOT, api_snapshot_load },
	{ HTTP_PUT, "/migrate", false, true, RUNNING, api_migrate_start },
	{ HTTP_GET, "/migrate", false, false, RUNNING, api_migrate_get },
	{ HTTP_PUT, "/balloon", false, true, PREBOOT, api_put_balloon },
	{ HTTP_PATCH, "/balloon", false, true, RUNNING, api_patch_balloon },
	{ HTTP_GET, "/balloon", false, false, ANYTIME, api_get_balloon },
	{ HTTP_GET, "/balloon/statistics", false, false, RUNNING, api_get_balloon_stats },
	{ HTTP_PATCH, "/balloon/statistics", false, true, RUNNING, api_patch_balloon_stats },
	{ HTTP_PUT, "/vsock", false, true, PREBOOT, put_vsock },
	{ HTTP_PUT, "/entropy", false, true, PREBOOT, put_entropy },
};

/* The request target's path: origin-form only, no query or fragment. */
static int url_path(const struct http_req *r, const char **path, size_t *len)
{
	struct http_parser_url u;

	http_parser_url_init(&u);
	if (r->url[0] != '/' || http_parser_parse_url(r->url, r->url_len, 0, &u) ||
	    !(u.field_set & (1 << UF_PATH)))
		return -EINVAL;
	if (u.field_set & (1 << UF_QUERY | 1 << UF_FRAGMENT))
		return -EINVAL;
	*path = r->url + u.field_data[UF_PATH].off;
	*len = u.field_data[UF_PATH].len;
	return 0;
}

static bool route_match(const struct route *rt, const char *path, size_t len, const char **id)
{
	size_t plen = strlen(rt->path);

	*id = NULL;
	if (!rt->has_id)
		return len == plen && !memcmp(path, rt->path, len);
	if (len <= plen || memcmp(path, rt->path, plen))
		return false;
	*id = path + plen;
	return true;
}

void api_route(struct api *a, const struct http_req *r, struct api_reply *rep)
{
	const char *path, *id = NULL, *method = http_method_str(r->method);
	char idbuf[VMCONF_ID_MAX + 1], err[256];
	const struct route *rt = NULL;
	struct json_object *body = NULL;
	bool path_known = false;
	size_t len, i;

	if (url_path(r, &path, &len))
		return api_reply_fault(rep, 400, "malformed request target (only a path, without a query)");
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_match(&routes[i], path, len, &id))
			continue;
		path_known = true;
		if (routes[i].method == r->method) {
			rt = &routes[i];
			break;
		}
	}
	if (!rt)
		return api_reply_fault(rep, 400, "Invalid request method and/or path: %s %.*s%s%s", method,
				       (int)(len > 64 ? 64 : len), path, len > 64 ? "..." : "",
				       path_known ? " (this path takes another method)" : "");
	if (rt->has_id) {
		size_t idlen = len - (size_t)(id - path);

		if (vmconf_id_check(rt->path + 1, id, idlen, err, sizeof(err)))
			return api_reply_fault(rep, 400, "%s", err);
		memcpy(idbuf, id, idlen);
		idbuf[idlen] = '\0';
		id = idbuf;
	}
	if (rt->when == PREBOOT && a->phase != PH_CONFIG)
		return api_reply_fault(rep, 400, "%s %s is a pre-boot call: %s", method, rt->path,
				       a->from_flags ? "the VM was configured by `ckvm run` flags" :
				       "the VM has already been started");
	if (rt->when == RUNNING && (a->phase != PH_RUNNING || !a->vmm_set))
		return api_reply_fault(rep, 400, "%s %s needs a running VM (state: %s)", method, rt->path,
				       state_name(a));
	if (rt->body && api_json_parse(r->body, r->body_len, &body, err, sizeof(err)))
		return api_reply_fault(rep, 400, "%s", err);
	rt->fn(a, id, body, rep);
	json_object_put(body);
}
