/* libFuzzer target for the split virtqueue (src/virtio/virtq.c): the input is the guest's ring memory
 * and queue setup; every chain is popped, each iovec byte touched (ASan checks it lies in RAM), pushed.
 * Must never crash, hang or trip a sanitizer. Single-threaded. */
#include <assert.h>
#include <stdlib.h>

#include "fuzz_ring.h"
#include "log.h"
#include "virtio/virtq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ram[FUZZ_RAM_LEN] __attribute__((aligned(4096)));
static uint8_t ram2[4096] __attribute__((aligned(4096)));	/* a second, distant region */
static struct guest_mem gm;
static struct vq_chain chain;

static void fuzz_setup(void)
{
	log_threshold = LOG_ERR;
	if (gm_add_region(&gm, FUZZ_RAM_GPA, FUZZ_RAM_LEN, ram) ||
	    gm_add_region(&gm, 0x40000000, sizeof(ram2), ram2) || vq_chain_init(&chain, 64))
		abort();
}

static uint32_t fuzz_touch(struct vq_chain *c)
{
	uint32_t sum = 0;
	uint64_t rd = 0, wr = 0;
	int i;

	assert(c->nr_rd + c->nr_wr <= c->max);
	for (i = 0; i < c->nr_rd; i++) {
		const uint8_t *p = vq_chain_rd(c)[i].iov_base;
		size_t n = vq_chain_rd(c)[i].iov_len;

		assert(n);
		for (size_t k = 0; k < n; k++)
			sum += p[k];
		rd += n;
	}
	for (i = 0; i < c->nr_wr; i++) {
		memset(vq_chain_wr(c)[i].iov_base, 0xa5, vq_chain_wr(c)[i].iov_len);
		wr += vq_chain_wr(c)[i].iov_len;
	}
	assert(rd == c->rd_len && wr == c->wr_len);
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct fuzz_hdr h;
	struct virtq vq;
	uint16_t qsize;
	int i, ret = 0;

	if (!ready) {
		fuzz_setup();
		ready = 1;
	}
	if (fuzz_load(data, size, &h, ram))
		return 0;
	memset(ram2, 0, sizeof(ram2));
	qsize = fuzz_qsize(h.size_log2);
	if (vq_enable(&vq, &gm, qsize, FUZZ_RAM_GPA + h.desc_off, FUZZ_RAM_GPA + h.avail_off,
		      FUZZ_RAM_GPA + h.used_off, fuzz_features(h.features)))
		return 0;
	vq.last_avail = vq.avail_idx = vq.used_idx = h.start_idx;
	chain.max = qsize;
	/* A well-formed ring holds at most qsize chains; popping more means we re-read new ones the
	 * device's own writes produced (overlapping rings), which is fine but bounded here. */
	for (i = 0; i < 4 * qsize + 4; i++) {
		ret = vq_pop(&vq, &chain);
		if (ret <= 0)
			break;
		assert(chain.head < qsize);
		fuzz_touch(&chain);
		vq_push(&vq, chain.head, chain.wr_len);
		if (i % 3 == 0)
			(void)vq_should_notify(&vq);
	}
	(void)vq_should_notify(&vq);
	if (ret < 0)
		assert(vq_pop(&vq, &chain) < 0);	/* broken stays broken */
	return 0;
}
