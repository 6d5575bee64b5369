/* virtio-net's saved state through its virtio-pci function (see test_vdevstate.c): frames both
 * ways, pause with a receive buffer held, save, restore into a fresh machine with another tap (the
 * network override), the announce after resume and its ack on the control queue, hostile records. */
#include "vdev_machine.h"

#define NET_HDR 12	/* struct virtio_net_hdr_v1 */

/* A receive buffer of 2 KiB on queue 0; returns its gpa. */
static uint64_t net_rx_buf(void)
{
	uint64_t g = vqm_alloc(&q[0], 2048);

	vqm_add(&q[0], (struct vqm_seg[]){ { g, 2048, true } }, 1);
	return g;
}

/* A 60-byte frame filled with `fill` sent by the driver on queue 1. */
static void net_tx(uint8_t fill)
{
	uint64_t g = vqm_alloc(&q[1], NET_HDR + 60);

	memset(vqm_host(&q[1], g), 0, NET_HDR);
	memset(vqm_host(&q[1], g + NET_HDR), fill, 60);
	vqm_add(&q[1], (struct vqm_seg[]){ { g, NET_HDR + 60, false } }, 1);
}

/* A frame from the host side of the tap: header + 60 bytes of `fill`. */
static void tap_send(int fd, uint8_t fill)
{
	uint8_t f[NET_HDR + 60];

	memset(f, 0, NET_HDR);
	memset(f + NET_HDR, fill, 60);
	CHECK_EQ(write(fd, f, sizeof(f)), sizeof(f));
}

/* The announce ack on the control queue; returns the ack byte the device wrote. */
static uint8_t net_ctrl(struct side *s, uint8_t class, uint8_t cmd)
{
	uint64_t h = vqm_alloc(&q[2], 16), ack = vqm_alloc(&q[2], 16);
	uint32_t id, len;

	((uint8_t *)vqm_host(&q[2], h))[0] = class;
	((uint8_t *)vqm_host(&q[2], h))[1] = cmd;
	*(uint8_t *)vqm_host(&q[2], ack) = 0xee;
	vqm_add(&q[2], (struct vqm_seg[]){ { h, 2, false }, { ack, 1, true } }, 2);
	kick(s, 2);
	CHECK(vqm_get_used(&q[2], &id, &len));
	CHECK_EQ(len, 1);
	return *(uint8_t *)vqm_host(&q[2], ack);
}

static uint16_t net_status(struct side *s)
{
	return (uint16_t)rd(s, VPCI_DEVICE_OFF + 6, 2);
}

static void test_net_round_trip(void)
{
	struct side a, b;
	int ta[2], tb[2], spare[2];
	uint8_t ra[2048], rb[2048], frame[128];
	uint64_t feat = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
			1ULL << VIRTIO_NET_F_CTRL_VQ | 1ULL << VIRTIO_NET_F_GUEST_ANNOUNCE;
	uint64_t rx2;
	uint32_t id, len;
	size_t len_a, na, nb, used;
	struct vnet_stats sa, sb;
	uint8_t gen;
	int sends;

	ram_init();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, ta), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, tb), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, spare), 0);
	side_init(&a, true, ta[0]);
	driver_up(&a, feat, 3);
	CHECK_EQ(rd(&a, VIRTIO_PCI_COMMON_STATUS, 1) & 0xf, 0xf);
	CHECK_EQ(net_status(&a), VIRTIO_NET_S_LINK_UP);

	/* One frame received, one sent; a second receive buffer is taken and held (no frame yet). */
	net_rx_buf();
	rx2 = net_rx_buf();
	tap_send(ta[1], 0x11);
	kick(&a, 0);
	CHECK(vqm_get_used(&q[0], &id, &len));
	CHECK_EQ(len, NET_HDR + 60);
	net_tx(0x22);
	kick(&a, 1);
	CHECK(vqm_get_used(&q[1], &id, &len));
	CHECK_EQ(read(ta[1], frame, sizeof(frame)), NET_HDR + 60);
	CHECK_EQ(frame[NET_HDR], 0x22);
	/* An unknown control command is answered, not fatal. */
	CHECK_EQ(net_ctrl(&a, 0, 0), VIRTIO_NET_ERR);

	CHECK_EQ(devreg_pause(&a.reg, deadline()), 0);
	len_a = save_all(&a, rec_a, sizeof(rec_a));
	CHECK(len_a > 0);
	write_seeds("net", 2, rec_a, len_a);
	na = regs(&a, ra, 3, 8);
	vnet_get_stats(a.net, &sa);
	CHECK_EQ(sa.rx_frames, 1);
	CHECK_EQ(sa.tx_frames, 1);

	/* The new machine, with a network override: its own tap, set while paused. */
	side_init(&b, true, spare[0]);
	CHECK_EQ(devreg_pause(&b.reg, deadline()), 0);
	CHECK_EQ(vnet_set_tap(b.net, tb[0]), 0);
	CHECK_EQ(vnet_set_tap(b.net, -1), -EINVAL);
	CHECK_EQ(restore_all(&b, rec_a, len_a), 0);
	b.bar = cfgr(&b, PCI_BASE_ADDRESS_0, 4) & ~0xfull;
	nb = regs(&b, rb, 3, 8);
	CHECK_EQ(na, nb);
	CHECK(!memcmp(ra, rb, na));
	vnet_get_stats(b.net, &sb);
	CHECK(!memcmp(&sa, &sb, sizeof(sa)));

	/* Hostile net records: another MAC, an unknown link bit; a truncated one. */
	{
		size_t nlen = 64 + 40;

		memcpy(tmp, rec_a, nlen);
		tmp[64 + 32 + 5] ^= 1;
		CHECK_EQ(device_restore(vnet_device(b.net), tmp, nlen, &used), -EINVAL);
		memcpy(tmp, rec_a, nlen);
		tmp[64 + 38] |= 4;
		CHECK_EQ(device_restore(vnet_device(b.net), tmp, nlen, &used), -EINVAL);
		memcpy(tmp, rec_a, nlen);
		CHECK_EQ(device_restore(vnet_device(b.net), tmp, nlen - 1, &used), -EINVAL);
		CHECK_EQ(device_restore(vnet_device(b.net), rec_a, nlen, &used), 0);
	}

	/* Resume: the guest is asked to announce itself (status bit + config interrupt, vector 0), and
	 * the receive queue's unseen used entry is signalled again. */
	gen = (uint8_t)rd(&b, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	sends = b.fv.sends;
	devreg_resume(&b.reg);
	CHECK_EQ(net_status(&b), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	/* the config interrupt, and one per queue with used entries (no EVENT_IDX: the device cannot
	 * tell what the driver saw) */
	CHECK_EQ(b.fv.sends - sends, 1 + 3);
	CHECK_EQ(b.fv.send_data, 0x40);	/* the config vector came last (device resume) */
	CHECK(rd(&b, VIRTIO_PCI_COMMON_CFGGENERATION, 1) != gen);
	CHECK_EQ(net_ctrl(&b, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK), VIRTIO_NET_OK);
	CHECK_EQ(net_status(&b), VIRTIO_NET_S_LINK_UP);

	/* The held buffer was given back at pause: b fills it with the next frame of the new tap. */
	tap_send(tb[1], 0x33);
	kick(&b, 0);
	CHECK(vqm_get_used(&q[0], &id, &len));
	CHECK_EQ(len, NET_HDR + 60);
	CHECK_EQ(((uint8_t *)vqm_host(&q[0], rx2))[NET_HDR], 0x33);
	CHECK_EQ(vqm_used(&q[0])->idx, 2);
	net_tx(0x44);
	kick(&b, 1);
	CHECK(vqm_get_used(&q[1], &id, &len));
	CHECK_EQ(read(tb[1], frame, sizeof(frame)), NET_HDR + 60);
	CHECK_EQ(frame[NET_HDR], 0x44);
	CHECK(read(ta[1], frame, sizeof(frame)) < 0);	/* nothing went to the old machine's tap */
	vnet_get_stats(b.net, &sb);
	CHECK_EQ(sb.rx_frames, 2);
	CHECK_EQ(sb.tx_frames, 2);

	side_free(&a);
	side_free(&b);
	close(ta[1]);
	close(tb[1]);
	close(spare[1]);
	vqm_free(&ram);
}

/* A driver that did not negotiate GUEST_ANNOUNCE is never shown the bit (it could not ack it). */
static void test_net_no_announce(void)
{
	struct side a;
	int t[2];

	ram_init();
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, t), 0);
	side_init(&a, true, t[0]);
	driver_up(&a, 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_STATUS, 2);
	CHECK_EQ(devreg_pause(&a.reg, deadline()), 0);
	CHECK(save_all(&a, rec_a, sizeof(rec_a)) > 0);
	vnet_announce(a.net);
	CHECK_EQ(net_status(&a), VIRTIO_NET_S_LINK_UP);
	devreg_resume(&a.reg);
	CHECK_EQ(net_status(&a), VIRTIO_NET_S_LINK_UP);
	side_free(&a);
	close(t[1]);
	vqm_free(&ram);
}

int main(void)
{
	RUN(test_net_round_trip);
	RUN(test_net_no_announce);
	return test_summary();
}
