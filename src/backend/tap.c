/* TAP backend (Linux Documentation/networking/tuntap.rst): opens /dev/net/tun, binds a tap interface
 * with virtio-net headers of 12 bytes, and parses/generates MAC addresses. Main thread, at setup. */
#include "backend/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include "core/hexdigit.h"
#include "log.h"

int tap_open(const char *ifname)
{
	struct ifreq ifr;
	int hdr_len = TAP_VNET_HDR_LEN;
	int fd, err;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
		log_err("tap", "'%s': interface name must be 1..%d characters", ifname ? ifname : "",
			IFNAMSIZ - 1);
		return -EINVAL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_errno(LOG_ERR, "tap", err, "%s: /dev/net/tun", ifname);
		return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		log_errno(LOG_ERR, "tap", err, "%s: TUNSETIFF", ifname);
		goto fail;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		err = -errno;
		log_errno(LOG_ERR, "tap", err, "%s: TUNSETVNETHDRSZ", ifname);
		goto fail;
	}
	/* no offloads: the guest is offered no checksum/GSO features, so frames arrive complete */
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		log_errno(LOG_WARN, "tap", -errno, "%s: TUNSETOFFLOAD", ifname);
	return fd;
fail:
	close(fd);
	return err;
}

int tap_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	if (!s)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (lo < 0)
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	memcpy(mac, m, 6);
	if ((m[0] & 1) || !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return -EADDRNOTAVAIL;
	return 0;
}

void tap_mac_random(uint8_t mac[6])
{
	uint8_t r[3] = { 0 };

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		unsigned v = (unsigned)getpid() * 2654435761u;

		r[0] = (uint8_t)v;
		r[1] = (uint8_t)(v >> 8);
		r[2] = (uint8_t)(v >> 16);
	}
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	memcpy(mac + 3, r, 3);
}

void tap_mac_format(const uint8_t mac[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}
