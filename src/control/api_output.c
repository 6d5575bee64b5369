/* The API's outputs (swagger Logger and Metrics): ckvm's log lines moved to a file or named pipe,
 * and metrics as JSON lines of counters (per exit reason, per device, the API's own, pause), one
 * per flush: every 60 s and on FlushMetrics. Files are opened like every output of ckvm
 * (outfile_open: never an input of this VM); a named pipe is opened non-blocking and needs its
 * reader, so no write can stall the API thread. API thread (a->lock), or main at the end. */
#include "control/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control/api_json.h"
#include "log.h"

static const struct {
	const char *name;
	enum log_level level;
} levels[] = {
	{ "Error", LOG_ERR }, { "Warning", LOG_WARN }, { "Warn", LOG_WARN }, { "Info", LOG_INFO },
	{ "Debug", LOG_DEBUG }, { "Trace", LOG_DEBUG }, { "Off", LOG_ERR },
};

/* The inputs known so far (kernel, initrd, drives) and the outputs already open, by identity. */
static void known_files(const struct api *a, struct file_ids *ids)
{
	const struct vmconf *vc = &a->vc;
	struct stat st;
	int i;

	*ids = a->outputs;
	if (vc->boot_set && stat(vc->kernel, &st) == 0)
		file_ids_add(ids, &st, "the kernel (boot-source)", false);
	if (vc->initrd[0] && stat(vc->initrd, &st) == 0)
		file_ids_add(ids, &st, "the initrd (boot-source)", false);
	for (i = 0; i < vc->ndrives; i++)
		if (stat(vc->drives[i].path, &st) == 0)
			file_ids_add(ids, &st, "a drive (path_on_host)", false);
}

static int output_open(struct api *a, const char *what, const char *path, char *err, size_t errlen)
{
	struct file_ids ids;
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return config_fail(err, errlen, "%s %.200s: %s", what, path, errno == ENXIO ?
					   "a named pipe with no reader" : strerror(errno));
		file_ids_add(&a->outputs, &st, what, true);
		return fd;
	}
	known_files(a, &ids);
	fd = outfile_open(&ids, what, path);
	if (fd < 0)
		return config_fail(err, errlen, "%s", log_last_error());
	if (fstat(fd, &st) == 0)
		file_ids_add(&a->outputs, &st, what, true);
	return fd;
}

int api_logger_put(struct api *a, struct json_object *o, char *err, size_t errlen)
{
	static char path[PATH_MAX];
	char level[16] = "", module[128];
	bool has_path, has_level, show;
	const struct jfield f[] = {
		{ "log_path", JF_STRING, false, path, PATH_MAX - 1, 0, 0, &has_path },
		{ "level", JF_STRING, false, level, sizeof(level) - 1, 0, 0, &has_level },
		{ "show_level", JF_BOOL, false, &show, 0, 0, 0, NULL },
		{ "show_log_origin", JF_BOOL, false, &show, 0, 0, 0, NULL },
		{ "module", JF_STRING, false, module, sizeof(module) - 1, 0, 0, NULL },
	};
	size_t i = 0;
	int fd, ret;

	if ((ret = api_json_fields(o, "logger", f, 5, err, errlen)))
		return ret;
	for (; has_level && i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcasecmp(level, levels[i].name))
			break;
	if (i == sizeof(levels) / sizeof(levels[0]))
		return config_fail(err, errlen, "logger: level must be Error, Warning, Info, Debug, Trace "
				   "or Off");
	if (has_path && a->log_path[0])
		return config_fail(err, errlen, "logger: the log file is already %s", a->log_path);
	if (has_path) {
		if ((fd = output_open(a, "logger log_path ", path, err, errlen)) < 0)
			return fd;
		ret = log_set_output(fd);
		close(fd);
		if (ret)
			return config_fail(err, errlen, "logger: %s", strerror(-ret));
		snprintf(a->log_path, sizeof(a->log_path), "%s", path);
	}
	if (has_level) {
		log_threshold = levels[i].level;
		a->log_level = levels[i].name;
	}
	return 0;
}

int api_metrics_put(struct api *a, struct json_object *o, char *err, size_t errlen)
{
	static char path[PATH_MAX];
	const struct jfield f[] = { { "metrics_path", JF_STRING, true, path, PATH_MAX - 1, 0, 0, NULL } };
	int fd, ret;

	if ((ret = api_json_fields(o, "metrics", f, 1, err, errlen)))
		return ret;
	if (a->metrics_fd >= 0)
		return config_fail(err, errlen, "metrics: already written to %s", a->metrics_path);
	if ((fd = output_open(a, "metrics metrics_path ", path, err, errlen)) < 0)
		return fd;
	a->metrics_fd = fd;
	snprintf(a->metrics_path, sizeof(a->metrics_path), "%s", path);
	a->metrics_next_ns = api_now_ns() + 60000000000LL;
	return 0;
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

/* A counter's growth since the last line (a counter that went backwards, e.g. a device that was
 * replaced, reports its new value). */
static uint64_t delta(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

/* One line: what happened since the previous line (Firecracker's metrics shape), and gauges. */
static struct json_object *metrics_line(struct api *a)
{
	struct json_object *line = json_object_new_object(), *api = json_object_new_object();
	const struct api_counters *p = &a->metrics_last;
	struct api_counters k = { 0 };
	struct timespec ts;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	add_u64(line, "utc_timestamp_ms", (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
	add_u64(api, "requests", delta(a->requests, a->metrics_last_requests));
	add_u64(api, "bad_requests", delta(a->bad_requests, a->metrics_last_bad));
	a->metrics_last_requests = a->requests;
	a->metrics_last_bad = a->bad_requests;
	json_object_object_add(line, "api_server", api);
	if (!a->vmm_set || !a->vmm.counters)
		return line;
	a->vmm.counters(a->vmm.ctx, &k);
	struct json_object *vmm = json_object_new_object(), *exits = json_object_new_object();

	json_object_object_add(vmm, "state", json_object_new_string(a->paused ? "Paused" : "Running"));
	add_u64(vmm, "vcpus", k.ncpus);
	add_u64(vmm, "pauses", delta(k.pauses, p->pauses));
	add_u64(vmm, "last_pause_us", k.last_pause_ns / 1000);
	add_u64(vmm, "kvmclock_ctrl", k.clock_ctrl_ok);
	json_object_object_add(line, "vmm", vmm);
	for (i = 0; i < API_MAX_EXITS; i++)
		if (k.exit_name[i])
			add_u64(exits, k.exit_name[i], delta(k.exits[i], p->exits[i]));
	json_object_object_add(line, "vcpu_exits", exits);
	for (i = 0; i < k.nnets && i < 8; i++) {
		struct json_object *n = json_object_new_object();
		char key[16];

		add_u64(n, "rx_frames", delta(k.net[i].rx_frames, p->net[i].rx_frames));
		add_u64(n, "tx_frames", delta(k.net[i].tx_frames, p->net[i].tx_frames));
		add_u64(n, "rx_dropped", delta(k.net[i].rx_dropped, p->net[i].rx_dropped));
		add_u64(n, "tx_dropped", delta(k.net[i].tx_dropped, p->net[i].tx_dropped));
		snprintf(key, sizeof(key), "net%d", i);
		json_object_object_add(line, key, n);
	}
	struct json_object *kbd = json_object_new_object();

	add_u64(kbd, "keys_queued", delta(k.i8042_keys, p->i8042_keys));
	json_object_object_add(line, "i8042", kbd);
	a->metrics_last = k;
	return line;
}

int api_metrics_flush(struct api *a)
{
	struct json_object *line;
	const char *s;
	char buf[8192];
	int n, ret = 0;

	if (a->metrics_fd < 0)
		return 0;
	line = metrics_line(a);
	s = json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	n = snprintf(buf, sizeof(buf), "%s\n", s);
	json_object_put(line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENOSPC;
	/* One write per line; a pipe whose reader lags loses the line rather than stall us. */
	if (write(a->metrics_fd, buf, (size_t)n) != n)
		ret = errno == EAGAIN ? -EAGAIN : -EIO;
	return ret;
}

int api_outputs_check(const struct api *a, const struct vm_config *cfg, char *err, size_t errlen)
{
	for (int i = 0; i < a->outputs.n; i++)
		for (int j = 0; j < cfg->inputs.n; j++)
			if (a->outputs.id[i].dev == cfg->inputs.id[j].dev &&
			    a->outputs.id[i].ino == cfg->inputs.id[j].ino)
				return config_fail(err, errlen, "%s is also the file of %s", cfg->inputs.id[j].what,
						   a->outputs.id[i].what);
	return 0;
}

void api_outputs_close(struct api *a)
{
	if (a->metrics_fd >= 0)
		close(a->metrics_fd);
	a->metrics_fd = -1;
}

struct json_object *api_logger_json(const struct api *a)
{
	struct json_object *o;

	if (!a->log_path[0] && !a->log_level)
		return NULL;
	o = json_object_new_object();
	if (a->log_path[0])
		json_object_object_add(o, "log_path", json_object_new_string(a->log_path));
	if (a->log_level)
		json_object_object_add(o, "level", json_object_new_string(a->log_level));
	return o;
}

struct json_object *api_metrics_json(const struct api *a)
{
	struct json_object *o;

	if (!a->metrics_path[0])
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "metrics_path", json_object_new_string(a->metrics_path));
	return o;
}
