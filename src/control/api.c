/* The API server: a Unix stream socket (0600) served by one epoll loop on the "api" thread (the
 * connections themselves are api_conn.c's: a slot, an 8 KiB input buffer and deadlines each, so a
 * client that stalls, floods or vanishes costs its own slot and nothing else), and the hand-over
 * of the configuration to main (api_wait_start / api_vm_created). Requests are answered by
 * api_routes.c under a->lock. */
#include "control/api_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/vm.h"
#include "core/sandbox.h"
#include "log.h"

#define TAG_LISTEN	(1ULL << 40)
#define TAG_WAKE	(2ULL << 40)
#define TAG_SIG		(3ULL << 40)
#define MS		1000000LL
#define METRICS_EVERY_NS (60000 * MS)

int64_t api_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the socket ---- */

/* Refuse a path that is not a socket or that a live process serves; remove a stale socket. */
static int sock_path_claim(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err(NULL, "--api-sock %s: exists and is not a socket; refusing to replace it", path);
		return -EEXIST;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? -EADDRINUSE : -errno;
	close(fd);
	if (ret == -EADDRINUSE) {
		log_err(NULL, "--api-sock %s: another process is serving it (a running ckvm?)", path);
		return ret;
	}
	if (ret != -ECONNREFUSED) {
		log_errno(LOG_ERR, NULL, ret, "--api-sock %s", path);
		return ret;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	log_debug("api", "removed the stale socket %s", path);
	return 0;
}

static int sock_create(struct api *a, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int ret;

	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		log_err(NULL, "--api-sock %.120s: a socket path has 1 to %zu bytes", path,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if ((ret = sock_path_claim(path)))
		return ret;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0)
		return -errno;
	old = umask(0177);	/* the socket file is born 0600: only its owner may talk to the VMM */
	ret = bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (!ret && listen(a->listen_fd, 64) < 0)
		ret = -errno;
	if (ret) {
		log_errno(LOG_ERR, NULL, ret, "--api-sock %s", path);
		return ret;
	}
	snprintf(a->sock_path, sizeof(a->sock_path), "%s", path);
	if (lstat(path, &st) == 0) {
		a->sock_dev = st.st_dev;
		a->sock_ino = st.st_ino;
	}
	return 0;
}

/* main has built the VM (or failed): answer the InstanceStart that waits for it. */
static void on_wake(struct api *a)
{
	uint64_t v;
	int i = a->start_conn;

	if (read(a->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	if (a->phase == PH_CONFIG || a->phase == PH_STARTING || a->start_answered)
		return;
	a->start_answered = true;
	if (i < 0 || a->conns[i].fd < 0)
		return;
	a->conns[i].deferred = false;
	a->start_conn = -1;
	if (a->phase == PH_FAILED) {
		api_conn_fail(a, i, 400, a->start_msg);
	} else {
		api_conn_respond(a, i, 204, NULL, a->conns[i].http.req.keep_alive);
	}
	api_conn_progress(a, i, CONN_NEED_MORE);
}

static void on_signal(struct api *a)
{
	struct signalfd_siginfo si;

	if (read(a->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (a->phase == PH_CONFIG) {
		log_info("api", "signal %u before the VM started: ending", si.ssi_signo);
		a->cancel = true;
		pthread_cond_broadcast(&a->cond);
	}
}

static void *api_thread(void *arg)
{
	struct api *a = arg;
	struct epoll_event evs[32];

	pthread_setname_np(pthread_self(), "api");
	sandbox_enter(SANDBOX_API);
	pthread_mutex_lock(&a->lock);
	while (!a->stop) {
		int64_t now = api_now_ns();
		int n, timeout = api_conn_timeout_ms(a, now);

		pthread_mutex_unlock(&a->lock);
		n = epoll_wait(a->epfd, evs, 32, timeout);
		pthread_mutex_lock(&a->lock);
		if (n < 0 && errno != EINTR) {
			log_errno(LOG_ERR, "api", -errno, "epoll_wait");
			break;
		}
		for (int k = 0; k < n && !a->stop; k++) {
			uint64_t tag = evs[k].data.u64;

			if (tag == TAG_LISTEN)
				api_conn_accept(a);
			else if (tag == TAG_WAKE)
				on_wake(a);
			else if (tag == TAG_SIG)
				on_signal(a);
			else if (a->conns[tag].fd >= 0 && a->conns[tag].deferred)
				api_conn_close(a, (int)tag);	/* hung up while InstanceStart runs */
			else if (a->conns[tag].fd >= 0 && (evs[k].events & EPOLLOUT))
				api_conn_progress(a, (int)tag, CONN_NEED_MORE);
			else if (a->conns[tag].fd >= 0)
				api_conn_readable(a, (int)tag);
		}
		now = api_now_ns();
		api_conn_deadlines(a, now);
		if (a->metrics_fd >= 0 && now >= a->metrics_next_ns) {
			api_metrics_flush(a);
			a->metrics_next_ns = now + METRICS_EVERY_NS;
		}
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* ---- life cycle, and the hand-over to main ---- */

static void wake(struct api *a)
{
	uint64_t one = 1;

	if (a->wake_fd >= 0 && write(a->wake_fd, &one, sizeof(one)) < 0)
		return;
}

static int watch(struct api *a, int fd, uint64_t tag)
{
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ee) < 0 ? -errno : 0;
}

static int api_setup(struct api *a, const struct api_options *o)
{
	sigset_t set;
	char err[512];
	int ret;

	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	a->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->epfd < 0 || a->wake_fd < 0 || (ret = watch(a, a->wake_fd, TAG_WAKE)))
		return -errno;
	vm_stop_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* main's and, inherited, every later thread's */
	if (o->cfg) {
		a->from_flags = true;
		a->run_cfg = o->cfg;
		vmconf_from_config(&a->vc, o->cfg);
		a->phase = PH_STARTING;
	} else if (o->config_file) {
		if (api_config_file_load(a, o->config_file, err, sizeof(err))) {
			log_err(NULL, "--config-file %s: %s", o->config_file, err);
			return -EINVAL;
		}
		a->run_cfg = &a->cfg;
		a->phase = PH_STARTING;
	} else {
		/* Waiting for InstanceStart: a signal ends ckvm from here. */
		a->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
		if (a->sig_fd < 0 || (ret = watch(a, a->sig_fd, TAG_SIG)))
			return -errno;
	}
	if (o->sock_path) {
		if ((ret = sock_create(a, o->sock_path)))
			return ret;
		if ((ret = watch(a, a->listen_fd, TAG_LISTEN)))
			return ret;
	}
	if ((ret = -pthread_create(&a->thread, NULL, api_thread, a)))
		return ret;
	a->thread_started = true;
	return 0;
}

int api_create(struct api **out, const struct api_options *o)
{
	struct api *a = calloc(1, sizeof(*a));
	int ret, i;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	a->listen_fd = a->epfd = a->wake_fd = a->sig_fd = a->metrics_fd = -1;
	a->start_conn = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	snprintf(a->id, sizeof(a->id), "%s", o->id ? o->id : "anonymous-instance");
	a->request_timeout_ns = (o->request_timeout_ms ? o->request_timeout_ms : 5000) * MS;
	a->idle_timeout_ns = (o->idle_timeout_ms ? o->idle_timeout_ms : 60000) * MS;
	a->write_timeout_ns = (o->write_timeout_ms ? o->write_timeout_ms : 5000) * MS;
	a->max_conns = o->max_conns ? o->max_conns : 64;
	a->conns = calloc((size_t)a->max_conns, sizeof(*a->conns));
	vmconf_init(&a->vc);
	if (!a->conns) {
		api_destroy(a);
		return -ENOMEM;
	}
	for (i = 0; i < a->max_conns; i++)
		a->conns[i].fd = -1;
	if ((ret = api_setup(a, o))) {
		if (ret != -EINVAL && ret != -EEXIST && ret != -EADDRINUSE && ret != -ENAMETOOLONG)
			log_errno(LOG_ERR, NULL, ret, "API server");
		api_destroy(a);
		return ret;
	}
	*out = a;
	return 0;
}

int api_wait_start(struct api *a, const struct vm_config **cfg)
{
	int ret = 0;

	pthread_mutex_lock(&a->lock);
	while (a->phase == PH_CONFIG && !a->cancel)
		pthread_cond_wait(&a->cond, &a->lock);
	if (a->cancel)
		ret = -ECANCELED;
	else
		*cfg = a->run_cfg;
	pthread_mutex_unlock(&a->lock);
	return ret;
}

void api_vm_created(struct api *a, int status, const char *msg, const struct api_vmm *vmm)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	if (status || !vmm) {
		a->phase = PH_FAILED;
		snprintf(a->start_msg, sizeof(a->start_msg), "InstanceStart failed: %s",
			 msg && *msg ? msg : "the VM could not be built (see ckvm's log)");
	} else {
		a->vmm = *vmm;
		a->vmm_set = true;
		a->phase = PH_RUNNING;
		a->paused = a->run_cfg && a->run_cfg->restore_paused;	/* a snapshot loaded paused */
	}
	pthread_mutex_unlock(&a->lock);
	wake(a);
}

void api_vm_gone(struct api *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	if (a->vmm_set)
		api_metrics_flush(a);
	a->vmm_set = false;
	a->phase = PH_GONE;
	pthread_mutex_unlock(&a->lock);
}

void api_destroy(struct api *a)
{
	struct stat st;
	int64_t until;

	if (!a)
		return;
	if (a->thread_started) {
		/* A last answer (InstanceStart's failure) may still be on its way: 500 ms for it. */
		wake(a);
		until = api_now_ns() + 500 * MS;
		for (;;) {
			bool busy = false;

			pthread_mutex_lock(&a->lock);
			for (int i = 0; i < a->max_conns; i++)
				busy |= a->conns[i].fd >= 0 && a->conns[i].out_off < a->conns[i].out_len;
			busy |= a->start_conn >= 0 && !a->start_answered && a->phase == PH_FAILED;
			if (!busy || api_now_ns() > until)
				a->stop = true;
			pthread_mutex_unlock(&a->lock);
			if (!busy || api_now_ns() > until)
				break;
			usleep(5000);
		}
		wake(a);
		pthread_join(a->thread, NULL);
	}
	for (int i = 0; a->conns && i < a->max_conns; i++)
		api_conn_close(a, i);
	free(a->conns);
	api_outputs_close(a);
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		/* Only the socket this process made: not one somebody put in its place meanwhile. */
		if (lstat(a->sock_path, &st) == 0 && st.st_ino == a->sock_ino && st.st_dev == a->sock_dev)
			unlink(a->sock_path);
	}
	if (a->sig_fd >= 0)
		close(a->sig_fd);
	if (a->wake_fd >= 0)
		close(a->wake_fd);
	if (a->epfd >= 0)
		close(a->epfd);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}
