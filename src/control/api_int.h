/* Inside the control plane: the server state shared by api.c (socket, connections, thread),
 * api_routes.c (the request table), api_output.c (logger, metrics) and config_file.c. */
#ifndef CKVM_CONTROL_API_INT_H
#define CKVM_CONTROL_API_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/outfile.h"
#include "config.h"
#include "control/api.h"
#include "control/http.h"
#include "control/vmconf.h"

struct json_object;

enum api_phase {
	PH_CONFIG,	/* waiting for the configuration: pre-boot calls accepted */
	PH_STARTING,	/* configured (InstanceStart, flags or file); main is building the VM */
	PH_RUNNING,	/* the VM runs (or is paused) */
	PH_FAILED,	/* building the VM failed; ckvm ends */
	PH_GONE,	/* the VM stopped; ckvm ends */
};

struct api_reply {
	int status;
	char *body;	/* malloc'd JSON, or NULL */
	bool defer;	/* InstanceStart: answered when main has built the VM */
};

struct api_conn {
	int fd;			/* -1: free slot */
	struct http_conn http;
	char *out;		/* response bytes not yet written */
	size_t out_len, out_off, out_cap;
	int64_t req_start_ns;	/* the first byte of a request not yet whole came; 0: none */
	int64_t out_since_ns;	/* a response was queued */
	int64_t since_ns;	/* accepted or last answer: the oldest goes when all slots are taken */
	uint32_t events;	/* what epoll watches now */
	bool close_after;	/* close once out is written */
	bool deferred;		/* its request waits for main */
	bool answered;		/* a response to the current request is queued */
};

struct api {
	char sock_path[108];
	dev_t sock_dev;
	ino_t sock_ino;
	int listen_fd, epfd, wake_fd, sig_fd;
	pthread_t thread;
	bool thread_started;
	char id[VMCONF_ID_MAX + 1];
	int64_t request_timeout_ns, idle_timeout_ns, write_timeout_ns;
	struct api_conn *conns;
	int max_conns;
	bool stop;			/* the thread ends (api_destroy) */

	pthread_mutex_t lock;		/* everything below; held around every request */
	pthread_cond_t cond;
	enum api_phase phase;
	bool cancel;			/* end before any VM ran */
	bool from_flags;		/* ckvm run ... --api-sock: configured by flags */
	int start_conn;			/* the connection waiting for InstanceStart's answer, or -1 */
	bool start_answered;
	char start_msg[256];
	struct api_vmm vmm;
	bool vmm_set, paused;
	struct vmconf vc;		/* the resources, with their ids */
	struct vm_config cfg;		/* built from vc at InstanceStart */
	const struct vm_config *run_cfg;	/* what main runs: &cfg or the flags' */

	struct file_ids outputs;	/* the log and metrics files */
	char log_path[PATH_MAX], metrics_path[PATH_MAX];
	const char *log_level;
	int metrics_fd;
	int64_t metrics_next_ns;
	uint64_t requests, bad_requests;
	/* The counters as of the last metrics line: each line reports what happened since (deltas, as
	 * Firecracker's counters do); gauges (state, vcpus, last pause) are reported as they are. */
	struct api_counters metrics_last;
	uint64_t metrics_last_requests, metrics_last_bad;
	/* PUT /snapshot/load: InstanceStart from a snapshot (api_snapshot.c) */
	bool snap_load, snap_paused;
	char snap_state[PATH_MAX], snap_mem[PATH_MAX];
};

int64_t api_now_ns(void);

/* api_conn.c: the connections, on the API thread with a->lock held. */
void api_conn_accept(struct api *a);
void api_conn_readable(struct api *a, int i);
/* Parse, answer and write for as long as there is something to do (st: the framing's state). */
void api_conn_progress(struct api *a, int i, enum conn_state st);
/* Queue a response; without keep_alive the connection closes after it. */
void api_conn_respond(struct api *a, int i, int status, const char *body, bool keep_alive);
/* {"fault_message": msg} with status, then close. */
void api_conn_fail(struct api *a, int i, int status, const char *msg);
void api_conn_close(struct api *a, int i);
/* Close what is past its deadline; the time until the next deadline (ms, -1: none). */
void api_conn_deadlines(struct api *a, int64_t now);
int api_conn_timeout_ms(struct api *a, int64_t now);
/* The request table (api_routes.c): answer r into rep. Called with a->lock held. */
void api_route(struct api *a, const struct http_req *r, struct api_reply *rep);
/* rep = {"fault_message": ...} with status (4xx/5xx). */
void api_reply_fault(struct api_reply *rep, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* rep = obj as JSON with status 200; takes obj. */
void api_reply_json(struct api_reply *rep, struct json_object *obj);

/* api_snapshot.c: PUT /snapshot/create (a paused VM) and PUT /snapshot/load (pre-boot: starts the
 * configured VM from a snapshot through InstanceStart). a->lock held. */
void api_snapshot_create(struct api *a, const char *id, struct json_object *body, struct api_reply *rep);
void api_snapshot_load(struct api *a, const char *id, struct json_object *body, struct api_reply *rep);
/* api_migrate.c: PUT /migrate (start a live migration), GET /migrate (its progress). */
void api_migrate_start(struct api *a, const char *id, struct json_object *body, struct api_reply *rep);
void api_migrate_get(struct api *a, const char *id, struct json_object *body, struct api_reply *rep);
/* InstanceStart (api_routes.c): build the configuration and hand it to main. */
void api_instance_start(struct api *a, struct api_reply *rep);

/* api_output.c: PUT /logger, PUT /metrics, FlushMetrics. a->lock held. */
int api_logger_put(struct api *a, struct json_object *o, char *err, size_t errlen);
int api_metrics_put(struct api *a, struct json_object *o, char *err, size_t errlen);
/* Write one metrics line now (when metrics are set up): 0 or -errno. */
int api_metrics_flush(struct api *a);
/* An input of the configuration that is also the log or metrics file: -EINVAL with a message. */
int api_outputs_check(const struct api *a, const struct vm_config *cfg, char *err, size_t errlen);
void api_outputs_close(struct api *a);
/* "logger" and "metrics" objects for GET /vm/config (NULL when not set). */
struct json_object *api_logger_json(const struct api *a);
struct json_object *api_metrics_json(const struct api *a);

/* config_file.c: --config-file, through the same functions as the requests. 0 or -EINVAL. */
int api_config_file_load(struct api *a, const char *path, char *err, size_t errlen);

#endif
