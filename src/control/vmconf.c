/* Firecracker's pre-boot resources (swagger definitions BootSource, MachineConfiguration, Drive,
 * NetworkInterface) kept with their ids, checked field by field, and built into a struct
 * vm_config by the same checks as `ckvm run`. API thread (before InstanceStart) or main thread
 * (--config-file). */
#include "control/vmconf.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "control/api_json.h"

#define MIB (1ULL << 20)

void vmconf_init(struct vmconf *vc)
{
	memset(vc, 0, sizeof(*vc));
	vc->vcpus = 1;
	vc->mem_mib = VMCONF_MEM_MIB_DEFAULT;
}

void vmconf_from_config(struct vmconf *vc, const struct vm_config *cfg)
{
	int i;

	vmconf_init(vc);
	vc->boot_set = true;
	snprintf(vc->kernel, sizeof(vc->kernel), "%s", cfg->kernel ? cfg->kernel : "");
	snprintf(vc->initrd, sizeof(vc->initrd), "%s", cfg->initrd ? cfg->initrd : "");
	snprintf(vc->boot_args, sizeof(vc->boot_args), "%s", cfg->cmdline ? cfg->cmdline : "");
	vc->args_set = cfg->cmdline != NULL;
	vc->vcpus = cfg->cpus;
	vc->mem_mib = cfg->memory_bytes / MIB;
	vmconf_vdevs_from_config(vc, cfg);
	for (i = 0; i < cfg->ndisks; i++) {
		struct vmconf_drive *d = &vc->drives[vc->ndrives++];

		snprintf(d->id, sizeof(d->id), "drive%d", i);
		snprintf(d->path, sizeof(d->path), "%s", cfg->disks[i].path);
		d->readonly = cfg->disks[i].readonly;
	}
	for (i = 0; i < cfg->nnets; i++) {
		struct vmconf_nic *n = &vc->nics[vc->nnics++];
		const uint8_t *m = cfg->nets[i].mac;

		snprintf(n->id, sizeof(n->id), "net%d", i);
		/* a vhost-user NIC has no tap */
		snprintf(n->tap, sizeof(n->tap), "%s", cfg->nets[i].tap ? cfg->nets[i].tap : "");
		n->mac_set = cfg->nets[i].mac_set;
		if (n->mac_set)
			snprintf(n->mac, sizeof(n->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
				 m[3], m[4], m[5]);
	}
}

int vmconf_id_check(const char *what, const char *id, size_t len, char *err, size_t errlen)
{
	size_t i;

	if (!len)
		return config_fail(err, errlen, "%s: empty id", what);
	if (len > VMCONF_ID_MAX)
		return config_fail(err, errlen, "%s: id is %zu characters long, at most %d", what, len,
				   VMCONF_ID_MAX);
	for (i = 0; i < len; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return config_fail(err, errlen, "%s: id '%.*s' has a character other than letters, "
					   "digits, '_' and '-'", what, (int)len, id);
	}
	return 0;
}

/* An input file must exist now (a typo is reported by the request that made it). */
static int input_exists(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return config_fail(err, errlen, "%s %.200s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return config_fail(err, errlen, "%s %.200s: not a regular file", what, path);
	return 0;
}

int vmconf_boot_source(struct vmconf *vc, struct json_object *o, char *err, size_t errlen)
{
	static char kernel[PATH_MAX], initrd[PATH_MAX], args[VMCONF_ARGS_MAX + 1];
	bool has_initrd, has_args;
	const struct jfield f[] = {
		{ "kernel_image_path", JF_STRING, true, kernel, PATH_MAX - 1, 0, 0, NULL },
		{ "initrd_path", JF_STRING, false, initrd, PATH_MAX - 1, 0, 0, &has_initrd },
		{ "boot_args", JF_STRING, false, args, VMCONF_ARGS_MAX, 0, 0, &has_args },
	};
	int ret;

	if ((ret = api_json_fields(o, "boot-source", f, 3, err, errlen)))
		return ret;
	if ((ret = input_exists("kernel_image_path", kernel, err, errlen)) ||
	    (has_initrd && (ret = input_exists("initrd_path", initrd, err, errlen))))
		return ret;
	vc->boot_set = true;
	memcpy(vc->kernel, kernel, sizeof(kernel));
	snprintf(vc->initrd, sizeof(vc->initrd), "%s", has_initrd ? initrd : "");
	snprintf(vc->boot_args, sizeof(vc->boot_args), "%s", has_args ? args : "");
	vc->args_set = has_args;
	return 0;
}

/* A string field that ckvm takes only with the value Firecracker defaults to. */
static int only_default(const char *what, const char *field, bool given, const char *val,
			const char *dflt, char *err, size_t errlen)
{
	if (given && strcmp(val, dflt))
		return config_fail(err, errlen, "%s: %s \"%.32s\" is not supported (only \"%s\")", what,
				   field, val, dflt);
	return 0;
}

int vmconf_machine(struct vmconf *vc, struct json_object *o, bool patch, char *err, size_t errlen)
{
	uint64_t vcpus = vc->vcpus, mem = vc->mem_mib;
	bool smt = false, dirty = false, has_tmpl, has_huge, has_v, has_m, has_smt, has_dirty;
	char tmpl[32], huge[32];
	const struct jfield f[] = {
		{ "vcpu_count", JF_U64, !patch, &vcpus, 0, 1, VMCONF_VCPUS_MAX, &has_v },
		{ "mem_size_mib", JF_U64, !patch, &mem, 0, 16, VMCONF_MEM_MIB_MAX, &has_m },
		{ "smt", JF_BOOL, false, &smt, 0, 0, 0, &has_smt },
		{ "track_dirty_pages", JF_BOOL, false, &dirty, 0, 0, 0, &has_dirty },
		{ "cpu_template", JF_STRING, false, tmpl, sizeof(tmpl) - 1, 0, 0, &has_tmpl },
		{ "huge_pages", JF_STRING, false, huge, sizeof(huge) - 1, 0, 0, &has_huge },
	};
	int ret;

	if ((ret = api_json_fields(o, "machine-config", f, 6, err, errlen)))
		return ret;
	if (patch && !has_v && !has_m && !has_smt && !has_dirty && !has_tmpl && !has_huge)
		return config_fail(err, errlen, "machine-config: nothing to change");
	if (smt)
		return config_fail(err, errlen, "machine-config: smt true is not supported (ckvm gives "
				   "each vCPU a core of its own)");
	if (dirty)
		return config_fail(err, errlen, "machine-config: track_dirty_pages true is not supported");
	if ((ret = only_default("machine-config", "cpu_template", has_tmpl, tmpl, "None", err, errlen)) ||
	    (ret = only_default("machine-config", "huge_pages", has_huge, huge, "None", err, errlen)))
		return ret;
	vc->vcpus = vcpus;
	vc->mem_mib = mem;
	return 0;
}

int vmconf_drive_find(const struct vmconf *vc, const char *id)
{
	for (int i = 0; i < vc->ndrives; i++)
		if (!strcmp(vc->drives[i].id, id))
			return i;
	return -ENOENT;
}

int vmconf_drive_index(const struct vmconf *vc, const char *id)
{
	int i, at = vmconf_drive_find(vc, id), n = 0;

	if (at < 0)
		return at;
	if (vc->drives[at].root)
		return 0;
	for (i = 0; i < at; i++)
		n += !vc->drives[i].root;
	for (i = 0; i < vc->ndrives; i++)
		n += vc->drives[i].root;	/* the root device goes before every other */
	return n;
}

static int id_match(const char *what, const char *path_id, const char *body_id, char *err,
		    size_t errlen)
{
	int ret;

	if ((ret = vmconf_id_check(what, body_id, strlen(body_id), err, errlen)))
		return ret;
	if (path_id && strcmp(path_id, body_id))
		return config_fail(err, errlen, "%s: the id in the path (%s) is not the body's (%s)", what,
				   path_id, body_id);
	return 0;
}

int vmconf_drive(struct vmconf *vc, const char *path_id, struct json_object *o, char *err,
		 size_t errlen)
{
	static struct vmconf_drive d;
	char cache[16], engine[16];
	bool has_uuid, has_cache, has_engine;
	const struct jfield f[] = {
		{ "drive_id", JF_STRING, true, d.id, VMCONF_ID_MAX, 0, 0, NULL },
		{ "path_on_host", JF_STRING, true, d.path, PATH_MAX - 1, 0, 0, NULL },
		{ "is_root_device", JF_BOOL, true, &d.root, 0, 0, 0, NULL },
		{ "is_read_only", JF_BOOL, false, &d.readonly, 0, 0, 0, NULL },
		{ "partuuid", JF_STRING, false, d.partuuid, sizeof(d.partuuid) - 1, 0, 0, &has_uuid },
		{ "cache_type", JF_STRING, false, cache, sizeof(cache) - 1, 0, 0, &has_cache },
		{ "io_engine", JF_STRING, false, engine, sizeof(engine) - 1, 0, 0, &has_engine },
		{ "rate_limiter", JF_IGNORE_NULL, false, NULL, 0, 0, 0, NULL },
		{ "socket", JF_IGNORE_NULL, false, NULL, 0, 0, 0, NULL },
	};
	int ret, i, at;

	memset(&d, 0, sizeof(d));
	if ((ret = api_json_fields(o, "drive", f, 9, err, errlen)) ||
	    (ret = id_match("drive", path_id, d.id, err, errlen)))
		return ret;
	if (has_cache && strcmp(cache, "Unsafe") && strcmp(cache, "Writeback"))
		return config_fail(err, errlen, "drive %s: cache_type must be \"Unsafe\" or \"Writeback\"",
				   d.id);
	if ((ret = only_default("drive", "io_engine", has_engine, engine, "Sync", err, errlen)))
		return ret;
	if (has_uuid && !d.root)
		return config_fail(err, errlen, "drive %s: partuuid is only for the root device", d.id);
	for (i = 0; i < (int)strlen(d.partuuid); i++)
		if (!strchr("0123456789abcdefABCDEF-", d.partuuid[i]))
			return config_fail(err, errlen, "drive %s: partuuid is not a UUID", d.id);
	if ((ret = input_exists("path_on_host", d.path, err, errlen)))
		return ret;
	at = vmconf_drive_find(vc, d.id);
	for (i = 0; d.root && i < vc->ndrives; i++)
		if (i != at && vc->drives[i].root)
			return config_fail(err, errlen, "drive %s: drive %s is already the root device",
					   d.id, vc->drives[i].id);
	if (at < 0 && vc->ndrives == CONFIG_MAX_DISKS)
		return config_fail(err, errlen, "drive %s: at most %d drives", d.id, CONFIG_MAX_DISKS);
	vc->drives[at < 0 ? vc->ndrives++ : at] = d;
	return 0;
}

int vmconf_nic(struct vmconf *vc, const char *path_id, struct json_object *o, char *err,
	       size_t errlen)
{
	static struct vm_config scratch;
	struct vmconf_nic n = { 0 };
	uint64_t mtu;
	const struct jfield f[] = {
		{ "iface_id", JF_STRING, true, n.id, VMCONF_ID_MAX, 0, 0, NULL },
		{ "host_dev_name", JF_STRING, true, n.tap, sizeof(n.tap) - 1, 0, 0, NULL },
		{ "guest_mac", JF_STRING, false, n.mac, sizeof(n.mac) - 1, 0, 0, &n.mac_set },
		{ "mtu", JF_IGNORE_NULL, false, &mtu, 0, 0, 0, NULL },
		{ "rx_rate_limiter", JF_IGNORE_NULL, false, NULL, 0, 0, 0, NULL },
		{ "tx_rate_limiter", JF_IGNORE_NULL, false, NULL, 0, 0, 0, NULL },
	};
	int ret, i;

	if ((ret = api_json_fields(o, "network-interface", f, 6, err, errlen)) ||
	    (ret = id_match("network-interface", path_id, n.id, err, errlen)))
		return ret;
	/* The tap name and MAC through --net's own checks. */
	config_defaults(&scratch);
	if ((ret = config_net_add(&scratch, n.tap, n.mac_set ? n.mac : NULL, err, errlen)))
		return ret;
	for (i = 0; i < vc->nnics && strcmp(vc->nics[i].id, n.id); i++)
		;
	if (i == vc->nnics && vc->nnics == CONFIG_MAX_NETS)
		return config_fail(err, errlen, "network-interface %s: at most %d", n.id, CONFIG_MAX_NETS);
	vc->nics[i] = n;
	if (i == vc->nnics)
		vc->nnics++;
	return 0;
}

/* Firecracker's root device: /dev/vda (it goes first), or by partition UUID. */
static void root_args(const struct vmconf *vc, const struct vmconf_drive *root, char *buf, size_t n)
{
	const char *a = vc->boot_args;

	if (!strncmp(a, "root=", 5) || strstr(a, " root=")) {
		snprintf(buf, n, "%s", a);
		return;
	}
	if (root->partuuid[0])
		snprintf(buf, n, "%s%sroot=PARTUUID=%s %s", a, *a ? " " : "", root->partuuid,
			 root->readonly ? "ro" : "rw");
	else
		snprintf(buf, n, "%s%sroot=/dev/vda %s", a, *a ? " " : "", root->readonly ? "ro" : "rw");
}

int vmconf_build(const struct vmconf *vc, struct vm_config *cfg, char *err, size_t errlen)
{
	static char cmdline[VMCONF_ARGS_MAX + 128];
	char serial[21];
	int i, pass, ret;

	if (!vc->boot_set)
		return config_fail(err, errlen, "no boot source: PUT /boot-source with kernel_image_path "
				   "first");
	config_defaults(cfg);
	cfg->kernel = vc->kernel;
	cfg->initrd = vc->initrd[0] ? vc->initrd : NULL;
	cfg->cmdline = vc->args_set ? vc->boot_args : NULL;
	cfg->cpus = (unsigned)vc->vcpus;
	cfg->memory_bytes = vc->mem_mib * MIB;
	/* The root device first (it is /dev/vda), then the others in the order they were put. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < vc->ndrives; i++) {
			const struct vmconf_drive *d = &vc->drives[i];

			if (d->root != !pass)
				continue;
			if (d->root) {
				root_args(vc, d, cmdline, sizeof(cmdline));
				cfg->cmdline = cmdline;
			}
			snprintf(serial, sizeof(serial), "%s", d->id);	/* the virtio-blk ID, 20 bytes */
			if ((ret = config_disk_add(cfg, d->path, d->readonly, serial, "drive", err, errlen)))
				return ret;
		}
	}
	for (i = 0; i < vc->nnics; i++)
		if ((ret = config_net_add(cfg, vc->nics[i].tap, vc->nics[i].mac_set ? vc->nics[i].mac : NULL,
					  err, errlen)))
			return ret;
	vmconf_vdevs_build(vc, cfg);
	return config_validate(cfg, err, errlen);
}

struct json_object *vmconf_machine_json(const struct vmconf *vc)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "vcpu_count", json_object_new_int64((int64_t)vc->vcpus));
	json_object_object_add(m, "mem_size_mib", json_object_new_int64((int64_t)vc->mem_mib));
	json_object_object_add(m, "smt", json_object_new_boolean(0));
	json_object_object_add(m, "track_dirty_pages", json_object_new_boolean(0));
	json_object_object_add(m, "huge_pages", json_object_new_string("None"));
	return m;
}

struct json_object *vmconf_json(const struct vmconf *vc)
{
	struct json_object *all = json_object_new_object(), *bs, *drives, *nics;
	int i;

	if (vc->boot_set) {
		bs = json_object_new_object();
		json_object_object_add(bs, "kernel_image_path", json_object_new_string(vc->kernel));
		if (vc->initrd[0])
			json_object_object_add(bs, "initrd_path", json_object_new_string(vc->initrd));
		if (vc->args_set)
			json_object_object_add(bs, "boot_args", json_object_new_string(vc->boot_args));
		json_object_object_add(all, "boot-source", bs);
	}
	drives = json_object_new_array();
	for (i = 0; i < vc->ndrives; i++) {
		const struct vmconf_drive *d = &vc->drives[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "drive_id", json_object_new_string(d->id));
		json_object_object_add(o, "path_on_host", json_object_new_string(d->path));
		json_object_object_add(o, "is_root_device", json_object_new_boolean(d->root));
		json_object_object_add(o, "is_read_only", json_object_new_boolean(d->readonly));
		if (d->partuuid[0])
			json_object_object_add(o, "partuuid", json_object_new_string(d->partuuid));
		json_object_object_add(o, "cache_type", json_object_new_string("Unsafe"));
		json_object_object_add(o, "io_engine", json_object_new_string("Sync"));
		json_object_array_add(drives, o);
	}
	json_object_object_add(all, "drives", drives);
	json_object_object_add(all, "machine-config", vmconf_machine_json(vc));
	nics = json_object_new_array();
	for (i = 0; i < vc->nnics; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "iface_id", json_object_new_string(vc->nics[i].id));
		json_object_object_add(o, "host_dev_name", json_object_new_string(vc->nics[i].tap));
		if (vc->nics[i].mac_set)
			json_object_object_add(o, "guest_mac", json_object_new_string(vc->nics[i].mac));
		json_object_array_add(nics, o);
	}
	json_object_object_add(all, "network-interfaces", nics);
	vmconf_vdevs_json(vc, all);
	return all;
}
