/* The key=value sub-option lists of --disk and --net ("path=F,readonly=on,serial=ID",
 * "tap=NAME,mac=M"; a bare first item is the path or tap name): every key once, a message for each
 * kind of mistake. Values are copied into the config's string buffer. Main thread. */
#include "config.h"
#include "backend/tap.h"
#include "virtio/vhost_user_fs.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <net/if.h>
#include <sys/un.h>

#define DISK_SERIAL_MAX	VIRTIO_BLK_ID_BYTES	/* the device's ID string, not NUL-terminated */

#define SHOWN(len) ((len) > 64 ? 64 : (len))	/* at most this much of a value in a message */

struct kv {
	const char *key, *val;	/* key NULL: a bare item */
	int key_len, val_len;
};

/* The next item at *pos (NULL at the end); advances *pos past it. 1 = an item, 0 = the end. */
static int kv_next(const char **pos, struct kv *kv)
{
	const char *item = *pos, *end, *eq;

	if (!item)
		return 0;
	end = item + strcspn(item, ",");
	*pos = *end ? end + 1 : NULL;
	eq = memchr(item, '=', (size_t)(end - item));
	if (eq) {
		kv->key = item;
		kv->key_len = (int)(eq - item);
		kv->val = eq + 1;
		kv->val_len = (int)(end - eq - 1);
	} else {
		kv->key = NULL;
		kv->key_len = 0;
		kv->val = item;
		kv->val_len = (int)(end - item);
	}
	return 1;
}

/* Index of kv's key in keys (a bare first item means keys[0]), each key at most once (*seen);
 * else -EINVAL with one line. */
static int kv_key(const struct kv *kv, bool first, const char *opt, const char *const *keys,
		  int nkeys, unsigned *seen, char *err, size_t errlen)
{
	char expected[64] = "";
	int k = 0;

	if (!kv->key && (!first || !kv->val_len))
		return config_fail(err, errlen, kv->val_len ? "%s: '%.*s' is not key=value" :
				   "%s: empty item (a stray comma?)", opt, SHOWN(kv->val_len), kv->val);
	for (; kv->key && k < nkeys; k++)
		if ((int)strlen(keys[k]) == kv->key_len && !memcmp(kv->key, keys[k], (size_t)kv->key_len))
			break;
	if (k == nkeys) {
		for (k = 0; k < nkeys; k++)
			snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s",
				 k ? ", " : "", keys[k]);
		return config_fail(err, errlen, "%s: unknown key '%.*s' (expected %s)", opt,
				   SHOWN(kv->key_len), kv->key, expected);
	}
	if (*seen & 1u << k)
		return config_fail(err, errlen, "%s: %s given twice", opt, keys[k]);
	*seen |= 1u << k;
	return k;
}

char *config_strndup(struct vm_config *cfg, const char *s, size_t n)
{
	char *p;

	if (n + 1 > sizeof(cfg->strbuf) - cfg->strbuf_used)
		return NULL;
	p = cfg->strbuf + cfg->strbuf_used;
	memcpy(p, s, n);
	p[n] = '\0';
	cfg->strbuf_used += n + 1;
	return p;
}

enum { DISK_PATH, DISK_READONLY, DISK_SERIAL, DISK_IF, DISK_VHOST_USER, DISK_SOCKET };	/* index in disk_keys[] */
static const char *const disk_keys[] = { "path", "readonly", "serial", "if", "vhost_user", "socket" };

/* One disk from separate values (also the API's and --config-file's way in): the checks every
 * --disk value gets. path_len/serial_len: bytes of each (serial may be NULL). */
static int disk_add(struct vm_config *cfg, const char *path, int path_len, bool readonly,
		    const char *serial, int serial_len, const char *opt, char *err, size_t errlen)
{
	struct disk_config *d = &cfg->disks[cfg->ndisks];

	if (cfg->ndisks == CONFIG_MAX_DISKS)
		return config_fail(err, errlen, "%s: at most %d disks", opt, CONFIG_MAX_DISKS);
	if (!path_len)
		return config_fail(err, errlen, "%s: empty path", opt);
	if (path_len >= PATH_MAX)
		return config_fail(err, errlen, "%s: path too long (%d bytes, at most %d)", opt, path_len,
				   PATH_MAX - 1);
	if (serial && serial_len > DISK_SERIAL_MAX)
		return config_fail(err, errlen, "%s serial=%.*s: at most %d characters", opt,
				   SHOWN(serial_len), serial, DISK_SERIAL_MAX);
	memset(d, 0, sizeof(*d));
	d->readonly = readonly;
	d->path = config_strndup(cfg, path, (size_t)path_len);
	if (serial)
		d->serial = config_strndup(cfg, serial, (size_t)serial_len);
	if (!d->path || (serial && !d->serial))
		return config_fail(err, errlen, "%s: too much option text", opt);
	cfg->ndisks++;
	return 0;
}

int config_disk_add(struct vm_config *cfg, const char *path, bool readonly, const char *serial,
		    const char *what, char *err, size_t errlen)
{
	return disk_add(cfg, path, (int)strnlen(path, PATH_MAX), readonly, serial,
			serial ? (int)strnlen(serial, 64) : 0, what, err, errlen);
}

int config_disk_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	const char *pos = arg, *path = NULL, *serial = NULL, *sock = NULL;
	int path_len = 0, serial_len = 0, sock_len = 0, k, ret;
	bool first, readonly = false, ide = false, vhost_user = false;
	unsigned seen = 0;
	struct kv kv;

	if (cfg->ndisks == CONFIG_MAX_DISKS)
		return config_fail(err, errlen, "--disk: at most %d disks", CONFIG_MAX_DISKS);
	for (first = true; kv_next(&pos, &kv); first = false) {
		if ((k = kv_key(&kv, first, "--disk", disk_keys, 6, &seen, err, errlen)) < 0)
			return k;
		switch (k) {
		case DISK_PATH:
			if (!kv.val_len)
				return config_fail(err, errlen, "--disk: empty path");
			path = kv.val;
			path_len = kv.val_len;
			break;
		case DISK_READONLY:
			if ((kv.val_len != 2 || memcmp(kv.val, "on", 2)) &&
			    (kv.val_len != 3 || memcmp(kv.val, "off", 3)))
				return config_fail(err, errlen, "--disk readonly=%.*s: expected on or off",
						   SHOWN(kv.val_len), kv.val);
			readonly = kv.val_len == 2;
			break;
		case DISK_SERIAL:
			serial = kv.val;
			serial_len = kv.val_len;
			break;
		case DISK_IF:
			if ((kv.val_len != 3 || memcmp(kv.val, "ide", 3)) &&
			    (kv.val_len != 6 || memcmp(kv.val, "virtio", 6)))
				return config_fail(err, errlen, "--disk if=%.*s: expected virtio or ide",
						   SHOWN(kv.val_len), kv.val);
			ide = kv.val_len == 3;
			break;
		case DISK_VHOST_USER:
			if ((kv.val_len != 2 || memcmp(kv.val, "on", 2)) &&
			    (kv.val_len != 3 || memcmp(kv.val, "off", 3)))
				return config_fail(err, errlen, "--disk vhost_user=%.*s: expected on or off",
						   SHOWN(kv.val_len), kv.val);
			vhost_user = kv.val_len == 2;
			break;
		case DISK_SOCKET:
			sock = kv.val;
			sock_len = kv.val_len;
			break;
		}
	}
	/* vhost-user: the back-end owns the image; ckvm only knows where its socket is */
	if (sock && !vhost_user)
		return config_fail(err, errlen, "--disk %s: socket= needs vhost_user=on", arg);
	if (vhost_user) {
		if (path || readonly || serial || ide)
			return config_fail(err, errlen, "--disk %s: vhost_user=on takes socket=PATH only (the "
					   "back-end has the image, its read-only flag and its serial)", arg);
		if (!sock || !sock_len)
			return config_fail(err, errlen, "--disk %s: socket=PATH is missing", arg);
		if ((ret = disk_add(cfg, sock, sock_len, false, NULL, 0, "--disk", err, errlen)))
			return ret;
		cfg->disks[cfg->ndisks - 1].vhost_user = true;
		return 0;
	}
	if (!path)
		return config_fail(err, errlen, "--disk %s: path=FILE is missing", arg);
	if ((k = disk_add(cfg, path, path_len, readonly, serial, serial_len, "--disk", err, errlen)))
		return k;
	cfg->disks[cfg->ndisks - 1].ide = ide;
	return 0;
}

/* Names Linux takes for an interface (dev_valid_name()), without the "%d" template, which would
 * let the kernel pick a name the user never asked for. */
static int tap_name_check(const char *name, int len, char *err, size_t errlen)
{
	int i;

	if (!len)
		return config_fail(err, errlen, "--net: empty tap name");
	if (len >= IFNAMSIZ)
		return config_fail(err, errlen, "--net tap=%.*s: tap name too long (%d characters, at "
				   "most %d)", SHOWN(len), name, len, IFNAMSIZ - 1);
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		return config_fail(err, errlen, "--net tap=%.*s: not an interface name", len, name);
	for (i = 0; i < len; i++) {
		if (name[i] == '%')
			return config_fail(err, errlen, "--net tap=%.*s: '%%' is not allowed (Linux would "
					   "read the name as a template and pick one itself)", len, name);
		if (name[i] == '/' || name[i] == ':' || isspace((unsigned char)name[i]) ||
		    !isprint((unsigned char)name[i]))
			return config_fail(err, errlen, "--net tap=%.*s: character '%c' is not allowed in "
					   "an interface name", len, name,
					   isprint((unsigned char)name[i]) ? name[i] : '?');
	}
	return 0;
}

static int mac_check(const char *s, int len, uint8_t mac[6], char *err, size_t errlen)
{
	char buf[24] = "";
	int ret = -EINVAL;

	if (len < (int)sizeof(buf)) {
		memcpy(buf, s, (size_t)len);
		buf[len] = '\0';
		ret = tap_mac_parse(buf, mac);
	}
	if (ret == -EINVAL)
		return config_fail(err, errlen, "--net mac=%.*s: not a MAC address (six hex pairs, e.g. "
				   "52:54:00:12:34:56)", SHOWN(len), s);
	if (ret && (mac[0] & 1))
		return config_fail(err, errlen, "--net mac=%s: a multicast address (bit 0 of the first "
				   "octet); a network card needs a unicast address", buf);
	if (ret)
		return config_fail(err, errlen, "--net mac=%s: the all-zero address is not a valid MAC", buf);
	return 0;
}

/* One NIC from separate values: the checks every --net value gets. mac may be NULL. */
static int net_add(struct vm_config *cfg, const char *tap, int tap_len, const char *mac, int mac_len,
		   char *err, size_t errlen)
{
	struct net_config *n = &cfg->nets[cfg->nnets];
	int ret;

	if (cfg->nnets == CONFIG_MAX_NETS)
		return config_fail(err, errlen, "--net: at most %d network devices", CONFIG_MAX_NETS);
	memset(n, 0, sizeof(*n));
	if ((ret = tap_name_check(tap, tap_len, err, errlen)))
		return ret;
	if (mac) {
		if ((ret = mac_check(mac, mac_len, n->mac, err, errlen)))
			return ret;
		n->mac_set = true;
	}
	if (!(n->tap = config_strndup(cfg, tap, (size_t)tap_len)))
		return config_fail(err, errlen, "--net: too much option text");
	cfg->nnets++;
	return 0;
}

int config_net_add(struct vm_config *cfg, const char *tap, const char *mac, char *err, size_t errlen)
{
	return net_add(cfg, tap, (int)strnlen(tap, 64), mac, mac ? (int)strnlen(mac, 64) : 0, err,
		       errlen);
}

/* --net vhost_user=on,socket=PATH[,mac=MAC]: the socket instead of a tap; the MAC stays ckvm's (the
 * device's config space). The path must fit a sockaddr_un, which vhu_connect needs. */
#define NET_SOCKET_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static int net_vhost_user_add(struct vm_config *cfg, const char *arg, const char *sock, int sock_len,
			      const char *mac, int mac_len, char *err, size_t errlen)
{
	struct net_config *n = &cfg->nets[cfg->nnets];
	int ret;

	if (!sock || !sock_len)
		return config_fail(err, errlen, "--net %s: socket=PATH is missing", arg);
	if (sock_len > NET_SOCKET_MAX)
		return config_fail(err, errlen, "--net socket=%.*s: path too long for a Unix socket (%d bytes, "
				   "at most %d)", SHOWN(sock_len), sock, sock_len, NET_SOCKET_MAX);
	memset(n, 0, sizeof(*n));
	if (mac) {
		if ((ret = mac_check(mac, mac_len, n->mac, err, errlen)))
			return ret;
		n->mac_set = true;
	}
	n->vhost_user = true;
	if (!(n->socket = config_strndup(cfg, sock, (size_t)sock_len)))
		return config_fail(err, errlen, "--net: too much option text");
	cfg->nnets++;
	return 0;
}

int config_net_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	/* tap first: a bare item is the name */
	static const char *const keys[] = { "tap", "mac", "vhost_user", "socket" };
	const char *pos = arg, *tap = NULL, *mac = NULL, *sock = NULL;
	int k, tap_len = 0, mac_len = 0, sock_len = 0;
	bool first, vhost_user = false;
	unsigned seen = 0;
	struct kv kv;

	if (cfg->nnets == CONFIG_MAX_NETS)
		return config_fail(err, errlen, "--net: at most %d network devices", CONFIG_MAX_NETS);
	for (first = true; kv_next(&pos, &kv); first = false) {
		if ((k = kv_key(&kv, first, "--net", keys, 4, &seen, err, errlen)) < 0)
			return k;
		if (k == 1) {
			mac = kv.val;
			mac_len = kv.val_len;
		} else if (k == 2) {
			if ((kv.val_len != 2 || memcmp(kv.val, "on", 2)) &&
			    (kv.val_len != 3 || memcmp(kv.val, "off", 3)))
				return config_fail(err, errlen, "--net vhost_user=%.*s: expected on or off",
						   SHOWN(kv.val_len), kv.val);
			vhost_user = kv.val_len == 2;
		} else if (k == 3) {
			sock = kv.val;
			sock_len = kv.val_len;
		} else {
			tap = kv.val;
			tap_len = kv.val_len;
		}
	}
	if (sock && !vhost_user)
		return config_fail(err, errlen, "--net %s: socket= needs vhost_user=on", arg);
	if (vhost_user && tap)
		return config_fail(err, errlen, "--net %s: vhost_user=on takes socket=PATH, not a tap (the "
				   "back-end moves the frames)", arg);
	if (vhost_user)
		return net_vhost_user_add(cfg, arg, sock, sock_len, mac, mac_len, err, errlen);
	if (!tap)
		return config_fail(err, errlen, "--net %s: tap=NAME is missing", arg);
	return net_add(cfg, tap, tap_len, mac, mac_len, err, errlen);
}

/* --memory: the size and the RAM backing (guest_mem.c gm_alloc_ram_flags). */
enum { MEM_SIZE, MEM_SHARED, MEM_HUGEPAGES };	/* index in mem_keys[] */
static const char *const mem_keys[] = { "size", "shared", "hugepages" };

static int on_off(const struct kv *kv, bool *out, char *err, size_t errlen)
{
	if ((kv->val_len != 2 || memcmp(kv->val, "on", 2)) &&
	    (kv->val_len != 3 || memcmp(kv->val, "off", 3)))
		return config_fail(err, errlen, "--memory %.*s=%.*s: expected on or off", kv->key_len,
				   kv->key, SHOWN(kv->val_len), kv->val);
	*out = kv->val_len == 2;
	return 0;
}

int config_memory_opts(struct vm_config *cfg, const char *arg, char *size, size_t size_len,
		       char *err, size_t errlen)
{
	bool first, shared = false, huge = false;
	const char *pos = arg;
	unsigned seen = 0;
	struct kv kv;
	int k, ret;

	*size = '\0';
	for (first = true; kv_next(&pos, &kv); first = false) {
		if ((k = kv_key(&kv, first, "--memory", mem_keys, 3, &seen, err, errlen)) < 0)
			return k;
		if (k == MEM_SHARED && (ret = on_off(&kv, &shared, err, errlen)))
			return ret;
		if (k == MEM_HUGEPAGES && (ret = on_off(&kv, &huge, err, errlen)))
			return ret;
		if (k != MEM_SIZE)
			continue;
		if (!kv.val_len || (size_t)kv.val_len >= size_len)
			return config_fail(err, errlen, "--memory %s: not a size (decimal with an optional "
					   "K, M, G or T suffix, e.g. 512M)", arg);
		memcpy(size, kv.val, (size_t)kv.val_len);
		size[kv.val_len] = '\0';
	}
	if (!*size)
		return config_fail(err, errlen, "--memory %s: size=SIZE is missing", arg);
	if (seen & 1u << MEM_SHARED && !shared && huge)
		return config_fail(err, errlen, "--memory %s: hugepages=on needs shared memory (drop "
				   "shared=off)", arg);
	cfg->memory_shared = shared || huge;
	cfg->memory_hugepages = huge;
	return 0;
}

/* --fs tag=NAME,socket=PATH[,queues=N][,queue_size=N]: virtio-fs whose queues a vhost-user back-end
 * (virtiofsd) serves. Unique tags and shared memory are checked with the whole (config_check.c). */
enum { FS_TAG, FS_SOCKET, FS_QUEUES, FS_QUEUE_SIZE };	/* index in fs_keys[] */
static const char *const fs_keys[] = { "tag", "socket", "queues", "queue_size" };

/* A number in [min, max] from kv's value; -EINVAL with one line naming the key. */
static int fs_number(const struct kv *kv, uint64_t min, uint64_t max, uint64_t *out, char *err,
		     size_t errlen)
{
	char buf[24];

	if (kv->val_len <= 0 || kv->val_len >= (int)sizeof(buf))
		return config_fail(err, errlen, "--fs %.*s=%.*s: expected a number from %llu to %llu",
				   kv->key_len, kv->key, SHOWN(kv->val_len), kv->val,
				   (unsigned long long)min, (unsigned long long)max);
	memcpy(buf, kv->val, (size_t)kv->val_len);
	buf[kv->val_len] = '\0';
	if (config_parse_u64(buf, min, max, out))
		return config_fail(err, errlen, "--fs %.*s=%s: expected a number from %llu to %llu",
				   kv->key_len, kv->key, buf, (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int config_fs_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	struct fs_config *fs = &cfg->fs[cfg->nfs];
	const char *pos = arg;
	uint64_t v;
	unsigned seen = 0;
	struct kv kv;
	bool first;
	int k;

	if (cfg->nfs == CONFIG_MAX_FS)
		return config_fail(err, errlen, "--fs: at most %d file system devices", CONFIG_MAX_FS);
	memset(fs, 0, sizeof(*fs));
	fs->queues = 1;
	for (first = true; kv_next(&pos, &kv); first = false) {
		if ((k = kv_key(&kv, first, "--fs", fs_keys, 4, &seen, err, errlen)) < 0)
			return k;
		switch (k) {
		case FS_TAG:
			/* the guest's mount source; config space holds it without a NUL when 36 long */
			if (!kv.val_len || kv.val_len > VUFS_TAG_MAX)
				return config_fail(err, errlen, "--fs tag=%.*s: the tag must have 1 to %d bytes",
						   SHOWN(kv.val_len), kv.val, VUFS_TAG_MAX);
			memcpy(fs->tag, kv.val, (size_t)kv.val_len);
			break;
		case FS_SOCKET:
			if (!kv.val_len || kv.val_len >= (int)sizeof(fs->socket))
				return config_fail(err, errlen, "--fs socket=%.*s: the path must have 1 to %zu "
						   "bytes (a Unix socket address)", SHOWN(kv.val_len), kv.val,
						   sizeof(fs->socket) - 1);
			memcpy(fs->socket, kv.val, (size_t)kv.val_len);
			break;
		case FS_QUEUES:
			if (fs_number(&kv, 1, VUFS_MAX_REQUEST_QUEUES, &v, err, errlen))
				return -EINVAL;
			fs->queues = (uint16_t)v;
			break;
		case FS_QUEUE_SIZE:
			if (fs_number(&kv, 2, VUFS_QUEUE_SIZE_MAX, &v, err, errlen))
				return -EINVAL;
			if (v & (v - 1))
				return config_fail(err, errlen, "--fs queue_size=%llu: not a power of two",
						   (unsigned long long)v);
			fs->queue_size = (uint16_t)v;
			break;
		}
	}
	if (!fs->tag[0] || !fs->socket[0])
		return config_fail(err, errlen, "--fs %s: tag=NAME and socket=PATH are both required", arg);
	cfg->nfs++;
	return 0;
}
