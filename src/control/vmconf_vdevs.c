/* Firecracker's small pre-boot devices (swagger definitions Balloon, Vsock, EntropyDevice with its
 * RateLimiter/TokenBucket): PUT /balloon, PUT /vsock, PUT /entropy and the same objects in
 * --config-file, checked field by field and turned into the --balloon, --vsock and --rng settings
 * of struct vm_config. API thread (before InstanceStart) or main thread (--config-file). */
#include "control/vmconf.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "control/api_json.h"

#define VSOCK_CID_MIN	3		/* 0-2: hypervisor, local, host (VMADDR_CID_*) */
#define VSOCK_CID_MAX	0xfffffffeULL	/* -1U is VMADDR_CID_ANY */
#define RNG_BPS_MAX	(1ULL << 32)	/* --rng bytes_per_sec's own upper bound */
#define BUCKET_MAX	(1ULL << 40)	/* size and refill_time: far beyond use; size * 1000 stays in 64 bits */

int vmconf_balloon(struct vmconf *vc, struct json_object *o, char *err, size_t errlen)
{
	uint64_t amount = 0, interval = 0;
	bool oom = false;
	const struct jfield f[] = {
		{ "amount_mib", JF_U64, true, &amount, 0, 0, VMCONF_BALLOON_MIB_MAX, NULL },
		{ "deflate_on_oom", JF_BOOL, true, &oom, 0, 0, 0, NULL },
		{ "stats_polling_interval_s", JF_U64, false, &interval, 0, 0, VMCONF_BALLOON_INTERVAL_MAX,
		  NULL },
	};
	int ret;

	if ((ret = api_json_fields(o, "balloon", f, 3, err, errlen)))
		return ret;
	vc->balloon.on = true;
	vc->balloon.size_mib = amount;
	vc->balloon.deflate_on_oom = oom;
	vc->balloon.stats = interval > 0;
	vc->balloon.stats_interval_s = (uint32_t)interval;
	return 0;
}

int vmconf_vsock(struct vmconf *vc, struct json_object *o, char *err, size_t errlen)
{
	struct vmconf_vsock v = { .on = true };
	struct sockaddr_un un;
	uint64_t cid = 0;
	bool has_id;
	const struct jfield f[] = {
		{ "vsock_id", JF_STRING, false, v.id, VMCONF_ID_MAX, 0, 0, &has_id },
		{ "guest_cid", JF_U64, true, &cid, 0, VSOCK_CID_MIN, VSOCK_CID_MAX, NULL },
		{ "uds_path", JF_STRING, true, v.uds_path, sizeof(v.uds_path) - 1, 0, 0, NULL },
	};
	size_t len;
	int ret;

	if ((ret = api_json_fields(o, "vsock", f, 3, err, errlen)))
		return ret;
	if (has_id && (ret = vmconf_id_check("vsock", v.id, strlen(v.id), err, errlen)))
		return ret;
	/* The device listens on PATH and connects guest-initiated streams to PATH_<port> (up to 10
	 * digits): both must fit a Unix socket address, as --vsock socket= requires. */
	len = strlen(v.uds_path);
	if (!len || len + 11 >= sizeof(un.sun_path))
		return config_fail(err, errlen, "vsock: uds_path must have 1 to %zu bytes (PATH_<port> "
				   "must fit a Unix socket address)", sizeof(un.sun_path) - 12);
	v.cid = (uint32_t)cid;
	vc->vsock = v;
	return 0;
}

/* One TokenBucket {size, one_time_burst, refill_time}: 0 or -EINVAL. */
static int bucket(struct json_object *o, const char *what, uint64_t *size, uint64_t *refill_ms,
		  char *err, size_t errlen)
{
	uint64_t burst = 0;
	const struct jfield f[] = {
		{ "size", JF_U64, true, size, 0, 0, BUCKET_MAX, NULL },
		{ "one_time_burst", JF_U64, false, &burst, 0, 0, BUCKET_MAX, NULL },
		{ "refill_time", JF_U64, true, refill_ms, 0, 0, BUCKET_MAX, NULL },
	};
	int ret;

	if ((ret = api_json_fields(o, what, f, 3, err, errlen)))
		return ret;
	if (burst)
		return config_fail(err, errlen, "%s: one_time_burst is not supported (only 0)", what);
	return 0;
}

int vmconf_entropy(struct vmconf *vc, struct json_object *o, char *err, size_t errlen)
{
	struct json_object *rl = NULL, *bw = NULL, *ops = NULL;
	struct vmconf_entropy e = { .on = true };
	uint64_t ops_size = 0, ops_ms = 0, bps;
	const struct jfield f[] = { { "rate_limiter", JF_OBJECT, false, &rl, 0, 0, 0, NULL } };
	const struct jfield rf[] = {
		{ "bandwidth", JF_OBJECT, false, &bw, 0, 0, 0, NULL },
		{ "ops", JF_OBJECT, false, &ops, 0, 0, 0, NULL },
	};
	int ret;

	if ((ret = api_json_fields(o, "entropy", f, 1, err, errlen)) ||
	    (rl && (ret = api_json_fields(rl, "entropy rate_limiter", rf, 2, err, errlen))) ||
	    (bw && (ret = bucket(bw, "entropy bandwidth", &e.size, &e.refill_time_ms, err, errlen))) ||
	    (ops && (ret = bucket(ops, "entropy ops", &ops_size, &ops_ms, err, errlen))))
		return ret;
	/* A bucket with size or refill_time 0 limits nothing, as in Firecracker. */
	if (ops_size && ops_ms)
		return config_fail(err, errlen, "entropy: an ops rate limit is not supported (ckvm limits "
				   "bytes per second: rate_limiter.bandwidth)");
	if (!e.size || !e.refill_time_ms) {
		e.size = e.refill_time_ms = 0;
	} else {
		bps = e.size * 1000 / e.refill_time_ms;
		if (!bps || bps > RNG_BPS_MAX)
			return config_fail(err, errlen, "entropy: bandwidth %llu bytes per %llu ms is %s "
					   "(1 to %llu bytes per second)", (unsigned long long)e.size,
					   (unsigned long long)e.refill_time_ms, bps ? "too much" :
					   "under 1 byte per second", RNG_BPS_MAX);
	}
	vc->entropy = e;
	return 0;
}

void vmconf_vdevs_build(const struct vmconf *vc, struct vm_config *cfg)
{
	cfg->balloon = vc->balloon;
	if (vc->vsock.on) {
		cfg->vsock.on = true;
		cfg->vsock.cid = vc->vsock.cid;
		cfg->vsock.socket = vc->vsock.uds_path;
	}
	if (vc->entropy.on) {
		cfg->rng.on = true;
		cfg->rng.bytes_per_sec = vc->entropy.refill_time_ms ?
					 vc->entropy.size * 1000 / vc->entropy.refill_time_ms : 0;
	}
}

void vmconf_vdevs_from_config(struct vmconf *vc, const struct vm_config *cfg)
{
	vc->balloon = cfg->balloon;
	if (cfg->vsock.on) {
		vc->vsock.on = true;
		vc->vsock.cid = cfg->vsock.cid;
		snprintf(vc->vsock.uds_path, sizeof(vc->vsock.uds_path), "%s", cfg->vsock.socket);
	}
	if (cfg->rng.on) {
		vc->entropy.on = true;
		vc->entropy.size = cfg->rng.bytes_per_sec;	/* per 1000 ms; 0: no limit */
		vc->entropy.refill_time_ms = cfg->rng.bytes_per_sec ? 1000 : 0;
	}
}

void vmconf_vdevs_json(const struct vmconf *vc, struct json_object *all)
{
	struct json_object *o, *rl, *bw;

	if (vc->balloon.on) {
		o = json_object_new_object();
		json_object_object_add(o, "amount_mib", json_object_new_int64((int64_t)vc->balloon.size_mib));
		json_object_object_add(o, "deflate_on_oom", json_object_new_boolean(vc->balloon.deflate_on_oom));
		json_object_object_add(o, "stats_polling_interval_s",
				       json_object_new_int64(vc->balloon.stats_interval_s));
		json_object_object_add(all, "balloon", o);
	}
	if (vc->vsock.on) {
		o = json_object_new_object();
		if (vc->vsock.id[0])
			json_object_object_add(o, "vsock_id", json_object_new_string(vc->vsock.id));
		json_object_object_add(o, "guest_cid", json_object_new_int64(vc->vsock.cid));
		json_object_object_add(o, "uds_path", json_object_new_string(vc->vsock.uds_path));
		json_object_object_add(all, "vsock", o);
	}
	if (vc->entropy.on) {
		o = json_object_new_object();
		if (vc->entropy.refill_time_ms) {
			rl = json_object_new_object();
			bw = json_object_new_object();
			json_object_object_add(bw, "size", json_object_new_int64((int64_t)vc->entropy.size));
			json_object_object_add(bw, "refill_time",
					       json_object_new_int64((int64_t)vc->entropy.refill_time_ms));
			json_object_object_add(rl, "bandwidth", bw);
			json_object_object_add(o, "rate_limiter", rl);
		}
		json_object_object_add(all, "entropy", o);
	}
}
