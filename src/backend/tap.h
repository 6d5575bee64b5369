/* TAP network backend: a non-blocking /dev/net/tun fd in IFF_TAP|IFF_NO_PI|IFF_VNET_HDR mode whose
 * frames carry a 12-byte virtio_net_hdr_v1, plus MAC address helpers for --net. */
#ifndef CKVM_TAP_H
#define CKVM_TAP_H

#include <stdint.h>

#define TAP_VNET_HDR_LEN 12	/* struct virtio_net_hdr_v1 / virtio_net_hdr_mrg_rxbuf */

/* Attach to (or create) tap interface ifname. Returns the fd (>= 0, O_NONBLOCK|O_CLOEXEC) or -errno
 * after logging one line such as "tap0: /dev/net/tun: Permission denied". */
int tap_open(const char *ifname);
/* "52:54:00:12:34:56" (hex digits, ':' separated, exactly six octets) -> mac. 0, -EINVAL (not that
 * syntax) or -EADDRNOTAVAIL (mac filled in, but a NIC cannot own it: multicast, i.e. bit 0 of the
 * first octet, or all zeros). */
int tap_mac_parse(const char *s, uint8_t mac[6]);
/* A random locally administered unicast address 52:54:00:xx:xx:xx. */
void tap_mac_random(uint8_t mac[6]);
/* Format as "xx:xx:xx:xx:xx:xx" into buf (at least 18 bytes). */
void tap_mac_format(const uint8_t mac[6], char *buf);

#endif
