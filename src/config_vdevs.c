/* --rng, --vsock and --balloon: the small virtio devices' key=value options ("bytes_per_sec=N",
 * "cid=N,socket=PATH", "size=N[M],deflate_on_oom=on,stats=on"), each given at most once. Values are
 * checked here; what needs the whole configuration (the balloon against --memory) in
 * config_vdevs_check. Main thread. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define ITEM_MAX 4096	/* an option's whole value: PATH_MAX plus keys */

/* Split "k=v,k=v" in place (in a copy) and hand each pair to fn. -EINVAL with one line. */
typedef int (*kv_fn)(struct vm_config *cfg, const char *opt, const char *key, const char *val,
		     unsigned *seen, char *err, size_t errlen);

static int kv_each(struct vm_config *cfg, const char *opt, const char *arg, kv_fn fn, char *err,
		   size_t errlen)
{
	char buf[ITEM_MAX], *item, *save = NULL;
	unsigned seen = 0;
	int ret;

	if (strlen(arg) >= sizeof(buf))
		return config_fail(err, errlen, "%s: value too long", opt);
	strcpy(buf, arg);
	if (!*buf || buf[strlen(buf) - 1] == ',' || *buf == ',' || strstr(buf, ",,"))
		return config_fail(err, errlen, "%s %s: empty item (a stray comma?)", opt, arg);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (!eq)
			return config_fail(err, errlen, "%s: '%.64s' is not key=value", opt, item);
		*eq = '\0';
		if ((ret = fn(cfg, opt, item, eq + 1, &seen, err, errlen)))
			return ret;
	}
	return 0;
}

/* Mark key number k seen; -EINVAL when it was already. */
static int once(unsigned *seen, unsigned k, const char *opt, const char *key, char *err, size_t errlen)
{
	if (*seen & 1u << k)
		return config_fail(err, errlen, "%s: %s given twice", opt, key);
	*seen |= 1u << k;
	return 0;
}

static int on_off(const char *opt, const char *key, const char *val, bool *out, char *err, size_t errlen)
{
	if (!strcmp(val, "on") || !strcmp(val, "off")) {
		*out = val[1] == 'n';
		return 0;
	}
	return config_fail(err, errlen, "%s %s=%.64s: expected on or off", opt, key, val);
}

static int rng_kv(struct vm_config *cfg, const char *opt, const char *key, const char *val,
		  unsigned *seen, char *err, size_t errlen)
{
	if (strcmp(key, "bytes_per_sec"))
		return config_fail(err, errlen, "%s: unknown key '%.64s' (expected bytes_per_sec)", opt, key);
	if (once(seen, 0, opt, key, err, errlen))
		return -EINVAL;
	if (config_parse_u64(val, 1, 1ULL << 32, &cfg->rng.bytes_per_sec))
		return config_fail(err, errlen, "%s bytes_per_sec=%.64s: expected a number from 1 to %llu",
				   opt, val, 1ULL << 32);
	return 0;
}

int config_rng_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	cfg->rng.on = true;
	cfg->rng.bytes_per_sec = 0;
	return arg ? kv_each(cfg, "--rng", arg, rng_kv, err, errlen) : 0;
}

static int vsock_kv(struct vm_config *cfg, const char *opt, const char *key, const char *val,
		    unsigned *seen, char *err, size_t errlen)
{
	uint64_t v;

	if (!strcmp(key, "cid")) {
		if (once(seen, 0, opt, key, err, errlen))
			return -EINVAL;
		/* 0-2 are the hypervisor, local and host addresses; -1U is VMADDR_CID_ANY */
		if (config_parse_u64(val, 3, 0xfffffffeULL, &v))
			return config_fail(err, errlen, "%s cid=%.64s: expected a number from 3 to %llu", opt,
					   val, 0xfffffffeULL);
		cfg->vsock.cid = (uint32_t)v;
		return 0;
	}
	if (!strcmp(key, "socket")) {
		struct sockaddr_un un;

		if (once(seen, 1, opt, key, err, errlen))
			return -EINVAL;
		/* PATH itself and PATH_<port> (up to 10 digits) must fit a Unix socket address */
		if (!*val || strlen(val) + 11 >= sizeof(un.sun_path))
			return config_fail(err, errlen, "%s socket=%.64s: the path must have 1 to %zu bytes "
					   "(PATH_<port> must fit a Unix socket address)", opt, val,
					   sizeof(un.sun_path) - 12);
		cfg->vsock.socket = config_strndup(cfg, val, strlen(val));
		if (!cfg->vsock.socket)
			return config_fail(err, errlen, "%s: too much option text", opt);
		return 0;
	}
	return config_fail(err, errlen, "%s: unknown key '%.64s' (expected cid, socket)", opt, key);
}

int config_vsock_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	int ret = kv_each(cfg, "--vsock", arg, vsock_kv, err, errlen);

	if (ret)
		return ret;
	if (!cfg->vsock.cid || !cfg->vsock.socket)
		return config_fail(err, errlen, "--vsock %s: cid=N and socket=PATH are both required", arg);
	cfg->vsock.on = true;
	return 0;
}

static int balloon_kv(struct vm_config *cfg, const char *opt, const char *key, const char *val,
		      unsigned *seen, char *err, size_t errlen)
{
	uint64_t v;

	if (!strcmp(key, "size")) {
		if (once(seen, 0, opt, key, err, errlen))
			return -EINVAL;
		/* a plain number is MiB (Firecracker's amount_mib); else a size that is whole MiB */
		if (!config_parse_u64(val, 0, 1ULL << 32, &v))
			v <<= 20;
		else if (config_parse_size(val, &v) || v & ((1ULL << 20) - 1) || v >> 20 > 1ULL << 32)
			return config_fail(err, errlen, "%s size=%.64s: expected MiB (N or NM, NG)", opt, val);
		cfg->balloon.size_mib = v >> 20;
		return 0;
	}
	if (!strcmp(key, "deflate_on_oom"))
		return once(seen, 1, opt, key, err, errlen) ? -EINVAL :
		       on_off(opt, key, val, &cfg->balloon.deflate_on_oom, err, errlen);
	if (!strcmp(key, "stats"))
		return once(seen, 2, opt, key, err, errlen) ? -EINVAL :
		       on_off(opt, key, val, &cfg->balloon.stats, err, errlen) ? -EINVAL :
		       (cfg->balloon.stats_interval_s = cfg->balloon.stats ? 1 : 0, 0);
	return config_fail(err, errlen, "%s: unknown key '%.64s' (expected size, deflate_on_oom, stats)",
			   opt, key);
}

int config_balloon_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	cfg->balloon.on = true;
	return kv_each(cfg, "--balloon", arg, balloon_kv, err, errlen);
}

int config_vdevs_check(const struct vm_config *cfg, char *err, size_t errlen)
{
	if (cfg->balloon.on && cfg->balloon.size_mib >= cfg->memory_bytes >> 20)
		return config_fail(err, errlen, "--balloon size=%lluM: must be less than --memory (%lluM)",
				   (unsigned long long)cfg->balloon.size_mib,
				   (unsigned long long)(cfg->memory_bytes >> 20));
	return 0;
}

void config_vdevs_print(const struct vm_config *c, FILE *f)
{
	if (c->rng.on)
		fprintf(f, "rng=bytes_per_sec=%llu\n", (unsigned long long)c->rng.bytes_per_sec);
	if (c->vsock.on)
		fprintf(f, "vsock=cid=%u,socket=%s\n", c->vsock.cid, c->vsock.socket);
	if (c->balloon.on)
		fprintf(f, "balloon=size=%lluM,deflate_on_oom=%s,stats=%s\n",
			(unsigned long long)c->balloon.size_mib, c->balloon.deflate_on_oom ? "on" : "off",
			c->balloon.stats ? "on" : "off");
}
