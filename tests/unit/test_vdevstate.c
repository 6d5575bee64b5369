/* Saved state of the virtio devices and their PCI functions (device.h records): a driver (the
 * virtqueue mock behind the virtio-pci registers) runs requests on one machine, which is paused and
 * saved; a fresh machine restores the records and shows the same guest-visible registers, re-routes
 * MSI-X, and the driver continues its requests there. Hostile records (each field out of range,
 * truncated, wrong version) are refused and change nothing. The hostile offsets follow the record
 * layouts in virtio_pci_state.c (vp_state 40 bytes, then 40 per queue, then the PCI function). */
#include "vdev_machine.h"

/* A blk request: header, data (512 bytes), status. Returns the data's gpa. */
static uint64_t blk_req(uint32_t type, uint64_t sector, uint8_t fill, uint64_t *status_gpa)
{
	uint64_t h = vqm_alloc(&q[0], 16), d = vqm_alloc(&q[0], 512), st = vqm_alloc(&q[0], 16);
	struct virtio_blk_outhdr hdr = { .type = type, .sector = sector };
	bool in = type == VIRTIO_BLK_T_IN;

	memcpy(vqm_host(&q[0], h), &hdr, sizeof(hdr));
	memset(vqm_host(&q[0], d), in ? 0 : fill, 512);
	*(uint8_t *)vqm_host(&q[0], st) = 0xff;
	vqm_add(&q[0], (struct vqm_seg[]){ { h, 16, false }, { d, 512, in }, { st, 1, true } }, 3);
	*status_gpa = st;
	return d;
}

static void test_blk_round_trip(void)
{
	struct side a, b;
	uint8_t ra[2048], rb[2048];
	uint64_t st, data, feat = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_FLUSH;
	uint32_t id, len;
	size_t na, nb, len_a;
	struct device *vpdev;

	ram_init();
	side_init(&a, false, -1);
	driver_up(&a, feat, 1);
	CHECK_EQ(rd(&a, VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	blk_req(VIRTIO_BLK_T_OUT, 3, 0x5a, &st);
	kick(&a, 0);
	CHECK(wait_used(&q[0], &id, &len));
	/* the pause waits for the worker: what it signalled is now visible to this thread */
	CHECK_EQ(devreg_pause(&a.reg, deadline()), 0);
	CHECK_EQ(*(uint8_t *)vqm_host(&q[0], st), VIRTIO_BLK_S_OK);
	CHECK(a.fv.sends > 0);		/* the used interrupt went out as MSI-X vector 1 */
	CHECK_EQ(a.fv.send_data, 0x41);
	len_a = save_all(&a, rec_a, sizeof(rec_a));
	CHECK(len_a > 0);
	write_seeds("blk", 0, rec_a, len_a);
	na = regs(&a, ra, 1, sizeof(struct virtio_blk_config));

	/* The new machine: its disk is the same image (shared storage), its devices paused. */
	side_init(&b, false, -1);
	memcpy(blk_mem_data(b.be), blk_mem_data(a.be), DISK);
	CHECK_EQ(devreg_pause(&b.reg, deadline()), 0);
	CHECK_EQ(restore_all(&b, rec_a, len_a), 0);
	b.bar = cfgr(&b, PCI_BASE_ADDRESS_0, 4) & ~0xfull;
	CHECK_EQ(b.bar, a.bar);		/* the BAR decodes where the guest put it */
	nb = regs(&b, rb, 1, sizeof(struct virtio_blk_config));
	CHECK_EQ(na, nb);
	CHECK(!memcmp(ra, rb, na));
	/* Every unmasked vector has a route again, with the guest's message. */
	CHECK_EQ(b.fv.routes, 2);
	CHECK_EQ(b.fv.route_data[0], 0x40);
	CHECK_EQ(b.fv.route_data[1], 0x41);

	/* A second save of the restored machine is the same record. */
	CHECK_EQ(save_all(&b, rec_b, sizeof(rec_b)), len_a);
	CHECK(!memcmp(rec_a, rec_b, len_a));

	/* Hostile transport records, each refused with b unchanged. */
	vpdev = virtio_pci_device(b.vp);
	{
		size_t off = 0, used;
		const uint8_t *vrec;
		size_t vlen;
		struct { size_t off; uint8_t x; } bad[] = {
			{ 0, 1 }, { 2, 1 }, { 4, 1 },			/* device id, queues, vectors */
			{ 16 + 7, 0x80 }, { 24 + 7, 0x80 },		/* features not offered */
			{ 24, 0x01 },					/* negotiated != written */
			{ 32, 0x07 },					/* config vector out of range */
			{ 34, 0x10 }, { 34, VIRTIO_CONFIG_S_FEATURES_OK },	/* status bits */
			{ 36, 0x04 }, { 37, 1 }, { 39, 0x80 },		/* ISR bit, padding */
			{ VP_HDR + 0, 0x08 },				/* desc misaligned */
			{ VP_HDR + 3, 0x80 }, { VP_HDR + 8 + 4, 0x10 },	/* desc, avail outside RAM */
			{ VP_HDR + 16 + 2, 0x80 },			/* used outside RAM */
			{ VP_HDR + 24, 0x13 }, { VP_HDR + 25, 0x01 },	/* size: not 2^n, > max */
			{ VP_HDR + 26, 0x07 },				/* queue vector out of range */
			{ VP_HDR + 28, 0x02 },				/* enable = 2 */
			{ VP_HDR + 30, 0x01 }, { VP_HDR + 32, 0x01 },	/* requests in flight */
			{ VP_HDR + 34, 0x02 }, { VP_HDR + 36, 0x01 },	/* broken = 2, padding */
			{ VP_HDR + VP_Q + 0, 0x01 },			/* PCI vendor id (read-only) */
			{ VP_HDR + VP_Q + PCI_HEADER_TYPE, 0x80 },	/* header type */
			{ VP_HDR + VP_Q + PCI_BASE_ADDRESS_0, 0x04 },	/* BAR flags (64-bit) */
			{ VP_HDR + VP_Q + 256 + 12, 0x02 },		/* MSI-X ctrl reserved bit */
			{ VP_HDR + VP_Q + 256 + 32, 0x04 },		/* PBA bit past the last vector */
		};

		CHECK_EQ(device_restore(vblk_device(b.blk), rec_a, len_a, &off), 0);
		vrec = rec_a + off;
		vlen = len_a - off;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			refuse(&b, vpdev, vrec, vlen, bad[i].off, bad[i].x, rb, nb, 1,
			       sizeof(struct virtio_blk_config));
		/* truncated, one byte longer, another version, another device's name */
		memcpy(tmp, vrec, vlen);
		CHECK_EQ(device_restore(vpdev, tmp, vlen - 1, &used), -EINVAL);
		memcpy(tmp + 8, &(uint32_t){ (uint32_t)(vlen - 64 + 1) }, 4);
		memset(tmp + vlen, 0, 1);
		CHECK_EQ(device_restore(vpdev, tmp, vlen + 1, &used), -EINVAL);
		memcpy(tmp, vrec, vlen);
		tmp[4]++;
		CHECK_EQ(device_restore(vpdev, tmp, vlen, &used), -EINVAL);
		memcpy(tmp, vrec, vlen);
		tmp[32] ^= 1;
		CHECK_EQ(device_restore(vpdev, tmp, vlen, &used), -EINVAL);
		nb = regs(&b, ra, 1, sizeof(struct virtio_blk_config));
		CHECK(!memcmp(ra, rb, nb));

		/* the blk record: segment limit, block size, read-only, flag, padding */
		for (size_t o = 8; o < 24; o++) {
			if (o == 17)	/* cfg_pending: 0 and 1 are both fine; 0xfe is not */
				continue;
			memcpy(tmp, rec_a, off);
			tmp[64 + o] ^= 0x21;
			CHECK_EQ(device_restore(vblk_device(b.blk), tmp, off, &used), -EINVAL);
		}
		memcpy(tmp, rec_a, off);
		tmp[64 + 17] = 2;
		CHECK_EQ(device_restore(vblk_device(b.blk), tmp, off, &used), -EINVAL);
	}

	/* The driver continues on b: read back what it wrote on a (the image travelled with it). */
	devreg_resume(&b.reg);
	data = blk_req(VIRTIO_BLK_T_IN, 3, 0, &st);
	kick(&b, 0);
	CHECK(wait_used(&q[0], &id, &len));
	CHECK_EQ(len, 513);
	CHECK_EQ(*(uint8_t *)vqm_host(&q[0], st), VIRTIO_BLK_S_OK);
	CHECK_EQ(vqm_used(&q[0])->idx, 2);	/* continued the ring: nothing lost or repeated */
	CHECK_EQ(*(uint8_t *)vqm_host(&q[0], data), 0x5a);
	CHECK_EQ(*(uint8_t *)vqm_host(&q[0], data + 511), 0x5a);

	side_free(&a);
	side_free(&b);
	vqm_free(&ram);
}

/* Save refuses a device that is not quiescent: a chain popped and not returned. */
static void test_save_busy(void)
{
	struct side a;
	struct vq_chain c;
	uint64_t st;

	ram_init();
	side_init(&a, false, -1);
	driver_up(&a, 1ULL << VIRTIO_F_VERSION_1, 1);
	CHECK_EQ(devreg_pause(&a.reg, deadline()), 0);
	blk_req(VIRTIO_BLK_T_OUT, 0, 1, &st);
	/* stand-in for a device that popped a request and did not finish it */
	CHECK_EQ(vq_chain_init(&c, QSIZE), 0);
	CHECK_EQ(vq_pop(&vblk_virtio(a.blk)->vq[0], &c), 1);
	CHECK_EQ(device_save(virtio_pci_device(a.vp), rec_a, sizeof(rec_a)), -EBUSY);
	vq_unpop(&vblk_virtio(a.blk)->vq[0]);
	CHECK(device_save(virtio_pci_device(a.vp), rec_a, sizeof(rec_a)) > 0);
	CHECK_EQ(device_save(virtio_pci_device(a.vp), rec_a, 100), -ENOSPC);
	vq_chain_free(&c);
	side_free(&a);
	vqm_free(&ram);
}

int main(void)
{
	RUN(test_blk_round_trip);
	RUN(test_save_busy);
	return test_summary();
}
