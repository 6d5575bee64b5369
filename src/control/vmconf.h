/* The VM's configuration as the API sees it: Firecracker's resources (boot-source, machine-config,
 * drives, network-interfaces) with their ids, filled by PUT/PATCH requests or --config-file, turned
 * into a struct vm_config through the command line's own checks (config_disk_add, config_net_add,
 * config_validate), and shown back as JSON (GET /vm/config, GET /machine-config). */
#ifndef CKVM_CONTROL_VMCONF_H
#define CKVM_CONTROL_VMCONF_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define VMCONF_ID_MAX		64	/* drive_id, iface_id: [A-Za-z0-9_-], like Firecracker's */
#define VMCONF_ARGS_MAX		4096	/* boot_args */
#define VMCONF_MEM_MIB_DEFAULT	128	/* Firecracker's default */
#define VMCONF_MEM_MIB_MAX	(1ULL << 30)	/* 1 PiB: beyond any host; the host's RAM is checked at start */
#define VMCONF_VCPUS_MAX	255	/* the host's KVM limit is checked at start */

struct json_object;

struct vmconf_drive {
	char id[VMCONF_ID_MAX + 1];
	char path[PATH_MAX];
	char partuuid[64];
	bool root, readonly;
};

struct vmconf_nic {
	char id[VMCONF_ID_MAX + 1];
	char tap[IFNAMSIZ + 16];	/* checked against IFNAMSIZ by config_net_add */
	char mac[24];
	bool mac_set;
};

/* Firecracker's Vsock: the guest's context id and the host socket (ckvm's --vsock cid=,socket=). */
struct vmconf_vsock {
	bool on;
	char id[VMCONF_ID_MAX + 1];	/* vsock_id, optional in Firecracker's API: "" = none */
	uint32_t cid;
	char uds_path[108];		/* sizeof(sun_path); config_vdevs.c's bound is checked */
};

/* Firecracker's EntropyDevice: its rate limiter's bandwidth bucket as given (size bytes per
 * refill_time ms; 0 in either = no limit), which ckvm turns into --rng bytes_per_sec. */
struct vmconf_entropy {
	bool on;
	uint64_t size, refill_time_ms;
};

struct vmconf {
	bool boot_set;
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];		/* "" = none */
	char boot_args[VMCONF_ARGS_MAX + 1];
	bool args_set;
	uint64_t vcpus, mem_mib;
	struct vmconf_drive drives[CONFIG_MAX_DISKS];
	int ndrives;
	struct vmconf_nic nics[CONFIG_MAX_NETS];
	int nnics;
	struct balloon_config balloon;	/* PUT /balloon (api_balloon.c) */
	struct vmconf_vsock vsock;	/* PUT /vsock (vmconf_vdevs.c) */
	struct vmconf_entropy entropy;	/* PUT /entropy (vmconf_vdevs.c) */
};

void vmconf_init(struct vmconf *vc);
/* The resources of a VM configured by `ckvm run` flags, ids drive0.., net0.. (for GET requests). */
void vmconf_from_config(struct vmconf *vc, const struct vm_config *cfg);

/* One resource each; all or nothing: on error (-EINVAL, one line in err) vc is unchanged.
 * path_id is the id in the URL (NULL from --config-file); it must match the body's. */
int vmconf_boot_source(struct vmconf *vc, struct json_object *o, char *err, size_t errlen);
int vmconf_machine(struct vmconf *vc, struct json_object *o, bool patch, char *err, size_t errlen);
int vmconf_drive(struct vmconf *vc, const char *path_id, struct json_object *o, char *err,
		 size_t errlen);
int vmconf_nic(struct vmconf *vc, const char *path_id, struct json_object *o, char *err,
	       size_t errlen);
/* An id as Firecracker takes it: 1..64 of [A-Za-z0-9_-]. 0 or -EINVAL with a message. */
int vmconf_id_check(const char *what, const char *id, size_t len, char *err, size_t errlen);
/* The drive with this id: its index, or -ENOENT. */
int vmconf_drive_find(const struct vmconf *vc, const char *id);

/* Where the drive with this id is in the VM's disk order (the root device first): its index, or
 * -ENOENT. */
int vmconf_drive_index(const struct vmconf *vc, const char *id);
/* Build and validate the whole (config_validate: files exist, none twice, ...) into cfg; the
 * strings point into vc, which must outlive cfg. 0 or -EINVAL with one line. */
int vmconf_build(const struct vmconf *vc, struct vm_config *cfg, char *err, size_t errlen);

/* vmconf_vdevs.c: PUT /balloon, PUT /vsock, PUT /entropy and the config file's "balloon", "vsock"
 * and "entropy" objects (all or nothing, -EINVAL with one line); their part of vmconf_build,
 * vmconf_from_config and vmconf_json. */
#define VMCONF_BALLOON_MIB_MAX		(1ULL << 20)	/* --memory bounds it further (checked at start) */
#define VMCONF_BALLOON_INTERVAL_MAX	3600		/* seconds between statistics polls */
int vmconf_balloon(struct vmconf *vc, struct json_object *o, char *err, size_t errlen);
int vmconf_vsock(struct vmconf *vc, struct json_object *o, char *err, size_t errlen);
int vmconf_entropy(struct vmconf *vc, struct json_object *o, char *err, size_t errlen);
void vmconf_vdevs_build(const struct vmconf *vc, struct vm_config *cfg);
void vmconf_vdevs_from_config(struct vmconf *vc, const struct vm_config *cfg);
void vmconf_vdevs_json(const struct vmconf *vc, struct json_object *all);

/* JSON (caller puts): {"vcpu_count", "mem_size_mib", "smt", "track_dirty_pages"} and the whole
 * Firecracker "full VM configuration" shape. */
struct json_object *vmconf_machine_json(const struct vmconf *vc);
struct json_object *vmconf_json(const struct vmconf *vc);

#endif
