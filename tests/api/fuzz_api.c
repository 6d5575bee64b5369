/* libFuzzer target for the API's request path: arbitrary bytes framed by http.c (in pieces, as a
 * socket delivers them), each whole request answered by api_route() against a fake VM, before and
 * after start. Must never crash, leak or trip a sanitizer; every answer is a valid status. No
 * socket, no thread; the logger and metrics are pinned so that no input names a file to write. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/api_int.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fk_pause(void *ctx, uint64_t *ns) { (void)ctx; *ns = 1; return 0; }
static int fk_ok(void *ctx) { (void)ctx; return 0; }
static int fk_swap(void *ctx, int i, const char *p, char *e, size_t n)
{
	(void)ctx, (void)i, (void)p, (void)e, (void)n;
	return -ENOTSUP;
}
static void fk_counters(void *ctx, struct api_counters *k) { (void)ctx; memset(k, 0, sizeof(*k)); }

int64_t api_now_ns(void)	/* api.c's, without the rest of the server */
{
	return 0;
}

static struct api a;
static struct http_conn c;

static void api_reset(bool running)
{
	static int devnull = -1;

	if (devnull < 0) {
		log_threshold = LOG_ERR;
		log_set_output(open("/dev/null", O_WRONLY | O_CLOEXEC));
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		pthread_mutex_init(&a.lock, NULL);
		pthread_cond_init(&a.cond, NULL);
	}
	memset(&a.vc, 0, sizeof(a.vc));
	vmconf_init(&a.vc);
	a.listen_fd = a.epfd = a.wake_fd = a.sig_fd = -1;
	a.start_conn = -1;
	a.metrics_fd = devnull;				/* PUT /metrics: "already" */
	strcpy(a.log_path, "/dev/null");		/* PUT /logger log_path: "already" */
	strcpy(a.id, "fuzz");
	a.phase = running ? PH_RUNNING : PH_CONFIG;
	a.vmm = (struct api_vmm){ .pause = fk_pause, .resume = fk_ok, .ctrl_alt_del = fk_ok,
				  .shutdown = fk_ok, .drive_swap = fk_swap, .counters = fk_counters };
	a.vmm_set = running;
	a.paused = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 1, step;
	enum conn_state st = CONN_NEED_MORE;

	if (!size)
		return 0;
	api_reset(data[0] & 1);
	step = (data[0] >> 1) + 1;	/* how the bytes arrive: 1..128 at a time */
	http_conn_init(&c);
	while (st != CONN_BAD) {
		if (st == CONN_REQUEST) {
			struct api_reply rep = { 0 };

			api_route(&a, &c.req, &rep);
			if (!rep.defer && (rep.status < 200 || rep.status > 599))
				abort();
			free(rep.body);
			st = http_conn_next(&c);
			continue;
		}
		if (off >= size)
			break;
		size_t n = size - off < step ? size - off : step;

		if (n > http_conn_room(&c))
			n = http_conn_room(&c);
		memcpy(c.in + c.in_len, data + off, n);
		off += n;
		st = http_conn_parse(&c, n);
	}
	if (st == CONN_BAD && (c.err_status < 400 || c.err_status > 599))
		abort();
	http_conn_free(&c);
	return 0;
}
