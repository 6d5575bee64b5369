/* Live migration of the board (issue 10 item 3), pre-copy over a socket (migrate_stream.h).
 * Source: a thread started by the API sends all guest RAM while the guest runs, then rounds of the
 * pages KVM's dirty log reports, until what is left would go within the downtime target at the
 * bandwidth measured (or a round limit); then it pauses the VM, sends the rest (with the pages
 * ckvm's own devices were handed: KVM does not log those), the state (board_state_build, the
 * snapshot format), and waits for the destination's confirmation; only then the VM stops here.
 * Destination: before the first instruction, accepts one source, receives into guest RAM, applies
 * the state (all checked first), confirms, and board_run starts the migrated VM. */
#include "arch/x86/board_migrate.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arch/x86/board.h"
#include "arch/x86/board_api.h"
#include "arch/x86/board_snapshot.h"
#include "backend/blk_file.h"
#include "control/api.h"
#include "core/migrate_stream.h"
#include "core/snapshot_fmt.h"
#include "log.h"
#include "virtio/virtio_net.h"

#define PAGE			4096ULL
#define MAX_ROUNDS		30	/* a guest dirtying faster than the link never converges */
#define CONFIRM_TIMEOUT_MS	(MIG_IO_TIMEOUT_S * 1000)

/* One migration at a time; one board a process. */
static struct {
	pthread_mutex_t lock;		/* guards p, and running/started against start and finish */
	struct migrate_progress p;
	bool started;			/* a thread exists (joined by the next start or by finish) */
	bool running;
	bool abort;			/* finish: the guest is gone, stop early */
	pthread_t thread;
	struct board *b;
	int fd;
	char url[256];
	unsigned downtime_ms;
	uint64_t bw_limit;
	bool disks;			/* --migrate-disks: stream the writable images */
	uint64_t disk_blocks;		/* blocks sent */
	unsigned long *pend[GM_MAX_REGIONS];	/* dirty pages not sent yet */
} mig = { .lock = PTHREAD_MUTEX_INITIALIZER, .p = { .state = "none" } };

static void set_phase(const char *phase, unsigned round, uint64_t bytes, uint64_t remaining)
{
	pthread_mutex_lock(&mig.lock);
	snprintf(mig.p.phase, sizeof(mig.p.phase), "%s", phase);
	mig.p.round = round;
	mig.p.bytes = bytes;
	mig.p.remaining_pages = remaining;
	pthread_mutex_unlock(&mig.lock);
}

static bool aborted(void)
{
	return __atomic_load_n(&mig.abort, __ATOMIC_RELAXED);
}

/* Round 0: every page that is not all zeros (the destination's RAM starts zeroed). */
static int send_all(struct board *b, struct mig_out *o, uint64_t *sent)
{
	const struct guest_mem *gm = &b->vm.gm;
	static const uint64_t zero[PAGE / 8];

	for (int i = 0; i < gm->nr; i++)
		for (uint64_t p = 0; p < gm->r[i].len && !o->err; p += PAGE) {
			if (!memcmp(gm->r[i].hva + p, zero, PAGE))
				continue;
			mig_out_page(o, gm->r[i].gpa + p, gm->r[i].hva + p);
			if (!(++*sent & 1023) && aborted())
				return -ECANCELED;
		}
	return mig_out_flush(o);
}

/* Fold the dirty log (and with touched the devices' pages) into mig.pend; the pages pending. */
static int collect(struct board *b, bool touched, uint64_t *count)
{
	*count = 0;
	for (int i = 0; i < b->vm.gm.nr; i++) {
		size_t words = (size_t)((b->vm.gm.r[i].len / PAGE + 63) / 64);
		unsigned long *m = board_dirty_pages(b, i, touched);

		if (!m)
			return -ENOMEM;
		if (!mig.pend[i] && !(mig.pend[i] = calloc(words, sizeof(unsigned long)))) {
			free(m);
			return -ENOMEM;
		}
		for (size_t w = 0; w < words; w++) {
			mig.pend[i][w] |= m[w];
			*count += (uint64_t)__builtin_popcountl(mig.pend[i][w]);
		}
		free(m);
	}
	return 0;
}

static int send_pending(struct board *b, struct mig_out *o, uint64_t *sent)
{
	const struct guest_mem *gm = &b->vm.gm;

	for (int i = 0; i < gm->nr; i++) {
		uint64_t pages = gm->r[i].len / PAGE;

		for (uint64_t p = 0; p < pages && !o->err; p++) {
			if (!(mig.pend[i][p / 64] >> (p % 64) & 1))
				continue;
			mig.pend[i][p / 64] &= ~(1UL << (p % 64));
			mig_out_page(o, gm->r[i].gpa + p * PAGE, gm->r[i].hva + p * PAGE);
			if (!(++*sent & 1023) && aborted())
				return -ECANCELED;
		}
	}
	return mig_out_flush(o);
}

/* --migrate-disks: every block of the writable images marked dirty (all of them the first time),
 * each unmarked before it is read. */
static int send_disks(struct mig_out *o)
{
	int n = blk_file_mig_count(NULL, 0), ret = 0;
	uint8_t *buf;

	if (!mig.disks || !n)
		return 0;
	if (!(buf = malloc(BLK_MIG_BLOCK)))
		return -ENOMEM;
	for (int d = 0; d < n && !ret && !o->err; d++) {
		uint32_t len;

		for (uint64_t blk = 0; (ret = blk_file_mig_next(d, &blk, buf, &len)) == 1; blk++) {
			if (mig_out_disk(o, (uint32_t)d, blk * BLK_MIG_BLOCK, buf, len))
				break;
			if (!(++mig.disk_blocks & 63) && aborted()) {
				free(buf);
				return -ECANCELED;
			}
		}
	}
	free(buf);
	if (ret < 0)
		return ret;
	return mig_out_flush(o);
}

/* The destination's 8 bytes, within CONFIRM_TIMEOUT_MS. */
static int wait_confirm(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char got[8];
	size_t at = 0;

	while (at < sizeof(got)) {
		int n = poll(&pfd, 1, CONFIRM_TIMEOUT_MS);
		ssize_t r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ETIMEDOUT;
		r = recv(fd, got + at, sizeof(got) - at, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		at += (size_t)r;
	}
	return memcmp(got, MIG_CONFIRM, sizeof(got)) ? -EPROTO : 0;
}

/* Paused, under the lifecycle lock: send the rest and the state, wait for the confirmation. */
static int switchover_locked(struct board *b, struct mig_out *o, uint64_t *sent, unsigned round,
			     char *err, size_t errlen)
{
	struct snap_writer w;
	uint64_t left;
	int ret;

	if (b->devs_stopped)
		return snprintf(err, errlen, "the VM is stopping"), -ESHUTDOWN;
	if ((ret = collect(b, true, &left)))
		return snprintf(err, errlen, "dirty log: %s", strerror(-ret)), ret;
	set_phase("switchover", round, o->bytes, left);
	if ((ret = send_pending(b, o, sent)))
		return snprintf(err, errlen, "sending RAM: %s", strerror(-ret)), ret;
	/* Shared storage: what the guest wrote is on the disk before the destination reads it. */
	if ((ret = board_flush_disks(b, err, errlen)))
		return ret;
	/* --migrate-disks: the devices are paused and flushed, the last blocks go */
	if ((ret = send_disks(o)))
		return snprintf(err, errlen, "sending the disks: %s", strerror(-ret)), ret;
	if ((ret = blk_file_writers_lock(false)))	/* the destination takes them */
		return snprintf(err, errlen, "cannot release the disks' locks: %s", strerror(-ret)), ret;
	snap_writer_init(&w);
	ret = board_state_build(b, &w, err, errlen);
	if (!ret && (mig_out_state(o, w.buf, w.len) || mig_out_flush(o)))
		ret = o->err, snprintf(err, errlen, "sending the state: %s", strerror(-o->err));
	snap_writer_free(&w);
	if (ret)
		return ret;
	set_phase("confirm", round, o->bytes, 0);
	if ((ret = wait_confirm(mig.fd)))
		snprintf(err, errlen, "the destination did not confirm it runs the VM: %s",
			 ret == -EPROTO ? "a wrong answer" : strerror(-ret));
	return ret;
}

/* Pause, then the rest with the lifecycle lock held: no API resume or snapshot, and the main
 * thread's stop waits (bounded by the socket and confirmation timeouts), until it is decided. */
static int switchover(struct board *b, struct api_vmm *ops, struct mig_out *o, uint64_t *sent,
		      unsigned round, int64_t *t_pause, char *err, size_t errlen)
{
	int ret;

	*t_pause = vm_clock_ns();
	if ((ret = ops->pause(ops->ctx, NULL)))
		return snprintf(err, errlen, "cannot pause the VM: %s", strerror(-ret)), ret;
	*t_pause = vm_clock_ns();
	pthread_mutex_lock(&b->lifecycle_lock);
	ret = switchover_locked(b, o, sent, round, err, errlen);
	pthread_mutex_unlock(&b->lifecycle_lock);
	return ret;
}

static void *migrate_thread(void *arg)
{
	struct board *b = arg;
	struct api_vmm ops;
	struct mig_out o;
	uint64_t sent = 0, count = 0, bw;
	int64_t t0 = vm_clock_ns(), tr, t_pause = 0;
	bool was_paused = b->devs_paused, paused = false;
	unsigned round = 0;
	char err[256] = "";
	int ret;

	board_api_ops(b, &ops);
	if ((ret = mig_out_init(&o, mig.fd, mig.bw_limit)) ||
	    (mig.disks && (ret = blk_file_mig_track(true))) ||
	    (ret = board_dirty_log_start(b)) || (ret = collect(b, false, &count))) {
		snprintf(err, sizeof(err), "cannot start: %s", strerror(-ret));
		goto out;
	}
	/* the log is on and read: from here every guest write shows in a later round */
	for (int i = 0; i < b->vm.gm.nr; i++)
		memset(mig.pend[i], 0, (size_t)((b->vm.gm.r[i].len / PAGE + 63) / 64) * 8);
	set_phase("full", 0, 0, b->vm.gm.ram_bytes / PAGE);
	mig_out_hello(&o, b->vm.gm.ram_bytes, b->vm.ncpus);
	if ((ret = send_all(b, &o, &sent))) {
		snprintf(err, sizeof(err), "sending RAM: %s", strerror(-ret));
		goto out;
	}
	if ((ret = send_disks(&o))) {
		snprintf(err, sizeof(err), "sending the disks: %s", strerror(-ret));
		goto out;
	}
	bw = o.bytes * 1000000000ULL / (uint64_t)(vm_clock_ns() - t0 + 1);
	for (round = 1; round <= MAX_ROUNDS; round++) {
		uint64_t before = o.bytes;

		if ((ret = collect(b, false, &count))) {
			snprintf(err, sizeof(err), "dirty log: %s", strerror(-ret));
			goto out;
		}
		pthread_mutex_lock(&mig.lock);
		mig.p.bandwidth_bps = bw;
		pthread_mutex_unlock(&mig.lock);
		set_phase("dirty", round, o.bytes, count);
		/* what is left goes in the pause if it fits the downtime target at this bandwidth */
		if (count * (PAGE + 16) + (mig.disks ? blk_file_mig_dirty() : 0) *
		    (BLK_MIG_BLOCK + 32) <= bw * mig.downtime_ms / 1000)
			break;
		tr = vm_clock_ns();
		if ((ret = send_pending(b, &o, &sent))) {
			snprintf(err, sizeof(err), "sending RAM: %s", strerror(-ret));
			goto out;
		}
		if ((ret = send_disks(&o))) {
			snprintf(err, sizeof(err), "sending the disks: %s", strerror(-ret));
			goto out;
		}
		bw = (o.bytes - before) * 1000000000ULL / (uint64_t)(vm_clock_ns() - tr + 1);
	}
	if (round > MAX_ROUNDS)
		round = MAX_ROUNDS;
	paused = true;
	ret = switchover(b, &ops, &o, &sent, round, &t_pause, err, sizeof(err));
out:
	pthread_mutex_lock(&mig.lock);
	mig.p.bytes = o.bytes;
	mig.p.pages_sent = sent;
	mig.p.total_ms = (uint64_t)(vm_clock_ns() - t0) / 1000000;
	if (!ret) {
		mig.p.downtime_us = (uint64_t)(vm_clock_ns() - t_pause) / 1000;
		snprintf(mig.p.state, sizeof(mig.p.state), "completed");
	} else {
		snprintf(mig.p.state, sizeof(mig.p.state), "failed");
		snprintf(mig.p.error, sizeof(mig.p.error), "%s", err);
	}
	mig.p.phase[0] = '\0';
	mig.running = false;
	pthread_mutex_unlock(&mig.lock);
	mig_out_free(&o);
	if (mig.disks)
		blk_file_mig_track(false);
	shutdown(mig.fd, SHUT_RDWR);
	close(mig.fd);
	for (int i = 0; i < GM_MAX_REGIONS; i++) {
		free(mig.pend[i]);
		mig.pend[i] = NULL;
	}
	if (!ret) {
		log_info("migrate", "migrated to %s: %u rounds, %llu pages, %llu disk blocks, %llu KiB "
			 "in %llu ms, downtime %.1f ms", mig.url, round, (unsigned long long)sent,
			 (unsigned long long)mig.disk_blocks,
			 (unsigned long long)(mig.p.bytes >> 10), (unsigned long long)mig.p.total_ms,
			 (double)mig.p.downtime_us / 1000);
		vm_stop(&b->vm, VM_STOP_USER, 0, "migrated: the destination runs the VM");
		return NULL;
	}
	log_err("migrate", "migration to %s failed, the VM keeps running here: %s", mig.url, err);
	/* the disks are ours again (the destination, if it got that far, exits without running) */
	if (paused && (ret = blk_file_writers_lock(true)))
		log_errno(LOG_ERR, "migrate", ret, "cannot take the disks' locks back");
	if (paused && !was_paused)
		ops.resume(ops.ctx);
	return NULL;
}

int board_migrate_start(struct board *b, const char *url, unsigned downtime_ms,
			unsigned bandwidth_mbps, bool disks, char *err, size_t errlen)
{
	int fd, ret;

	pthread_mutex_lock(&mig.lock);
	if (mig.running) {
		pthread_mutex_unlock(&mig.lock);
		return snprintf(err, errlen, "a migration is already under way"), -EBUSY;
	}
	pthread_mutex_unlock(&mig.lock);
	if (mig.started) {	/* the previous one ended (running false): its thread is done */
		pthread_join(mig.thread, NULL);
		mig.started = false;
	}
	if (b->devs_stopped)
		return snprintf(err, errlen, "the VM is stopping"), -ESHUTDOWN;
	if (disks && !blk_file_mig_count(NULL, 0))
		return snprintf(err, errlen, "--migrate-disks: this VM has no writable --disk image"),
		       -EINVAL;
	if ((fd = mig_connect(url, err, errlen)) < 0)
		return fd;
	pthread_mutex_lock(&mig.lock);
	memset(&mig.p, 0, sizeof(mig.p));
	snprintf(mig.p.state, sizeof(mig.p.state), "active");
	snprintf(mig.p.phase, sizeof(mig.p.phase), "connecting");
	snprintf(mig.url, sizeof(mig.url), "%s", url);
	mig.fd = fd;
	mig.b = b;
	mig.downtime_ms = downtime_ms;
	mig.bw_limit = (uint64_t)bandwidth_mbps * 1000000 / 8;
	mig.disks = disks;
	mig.disk_blocks = 0;
	mig.running = true;
	pthread_mutex_unlock(&mig.lock);
	if ((ret = -pthread_create(&mig.thread, NULL, migrate_thread, b))) {
		close(fd);
		mig.running = false;
		snprintf(mig.p.state, sizeof(mig.p.state), "failed");
		return snprintf(err, errlen, "cannot start the migration thread: %s", strerror(-ret)), ret;
	}
	mig.started = true;
	log_info("migrate", "migrating to %s (downtime target %u ms%s%s)", url, downtime_ms,
		 bandwidth_mbps ? ", bandwidth limited" : "", disks ? ", with the disks" : "");
	return 0;
}

void board_migrate_progress(struct board *b, struct migrate_progress *out)
{
	(void)b;
	pthread_mutex_lock(&mig.lock);
	*out = mig.p;
	pthread_mutex_unlock(&mig.lock);
}

void board_migrate_finish(struct board *b)
{
	(void)b;
	if (!mig.started)
		return;
	__atomic_store_n(&mig.abort, true, __ATOMIC_RELAXED);
	pthread_mutex_lock(&mig.lock);
	if (mig.running)
		shutdown(mig.fd, SHUT_RDWR);	/* a send or the confirmation wait returns at once */
	pthread_mutex_unlock(&mig.lock);
	pthread_join(mig.thread, NULL);
	mig.started = false;
}

/* ---- destination ---- */

void board_migrate_before_create(const struct vm_config *cfg)
{
	if (cfg->incoming)
		blk_file_defer_locks();	/* the source holds them until the switch-over */
}

static int write_disk(void *ctx, uint32_t disk, uint64_t off, const void *data, uint32_t len)
{
	(void)ctx;
	return blk_file_mig_write((int)disk, off, data, len);
}

int board_migrate_incoming(struct board *b)
{
	uint64_t sizes[64];
	struct mig_disks disks = { .sizes = sizes, .write = write_disk };
	struct guest_mem *gm = &b->vm.gm;
	struct mig_in_stats st;
	uint8_t *state = NULL;
	size_t len = 0;
	char err[384] = "";
	int64_t t0;
	int fd, ret;

	if (!b->cfg->incoming)
		return 0;
	log_info("migrate", "waiting for the source on %s", b->cfg->incoming);
	if ((fd = mig_listen_accept(b->cfg->incoming, err, sizeof(err))) < 0) {
		log_err("migrate", "--incoming %s", err);
		b->bad_input = fd == -EINVAL;
		return fd;
	}
	t0 = vm_clock_ns();
	/* What board_create loaded (kernel, tables) goes: RAM is the source's, zero where not sent. */
	for (int i = 0; i < gm->nr; i++)
		madvise(gm->r[i].hva, gm->r[i].len, MADV_DONTNEED);
	disks.n = (uint32_t)blk_file_mig_count(sizes, 64);
	if (disks.n > 64)
		disks.n = 64;
	ret = mig_receive(mig_read_fd, &fd, gm, b->vm.ncpus, &disks, &state, &len, &st, err,
			  sizeof(err));
	/* --migrate-disks: the blocks are on the destination's disks before it says it runs */
	if (!ret && st.disk_blocks && (ret = blk_file_mig_sync()))
		snprintf(err, sizeof(err), "cannot sync the disks: %s", strerror(-ret));
	if (!ret)
		ret = board_state_apply(b, state, len, err, sizeof(err));
	free(state);
	/* the source flushed its disks and released their locks before it sent the state */
	if (!ret && (ret = blk_file_writers_lock(true)))
		snprintf(err, sizeof(err), "cannot lock the disks (%s): does the source still use them?",
			 strerror(-ret));
	if (!ret && send(fd, MIG_CONFIRM, 8, MSG_NOSIGNAL) != 8) {
		ret = -errno ? -errno : -EPIPE;
		snprintf(err, sizeof(err), "the source is gone before the confirmation (%s)",
			 strerror(-ret));
	}
	close(fd);
	if (ret) {
		log_err("migrate", "incoming migration refused: %s", err);
		return ret;
	}
	/* peers learn where the guest is now (VIRTIO_NET_F_GUEST_ANNOUNCE: a gratuitous ARP) */
	for (int i = 0; i < 8; i++) {
		struct vnet *n = vnet_of_device(devreg_nth(&b->devs, "virtio-net", i));

		if (!n)
			break;
		vnet_announce(n);
	}
	log_info("migrate", "received %llu pages + %llu zero pages, %llu disk blocks, %llu KiB in "
		 "%.1f ms; resuming", (unsigned long long)st.pages, (unsigned long long)st.zero_pages,
		 (unsigned long long)st.disk_blocks,
		 (unsigned long long)(st.bytes >> 10), (double)(vm_clock_ns() - t0) / 1e6);
	return 0;
}
