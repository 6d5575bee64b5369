/* ckvm's control plane: Firecracker's HTTP API on a Unix socket, served by its own thread "api"
 * (issue 8 items 3-4), the pre-boot configuration it collects (or --config-file), the logger and
 * the metrics. The VM is reached only through struct api_vmm, which the board implements and unit
 * tests fake, so no handler touches a device. */
#ifndef CKVM_CONTROL_API_H
#define CKVM_CONTROL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm_config;
struct migrate_progress;
struct vballoon_info;

#define API_MAX_EXITS	64

/* What the metrics report; filled by api_vmm.counters. */
struct api_counters {
	unsigned ncpus;
	uint64_t exits[API_MAX_EXITS];		/* KVM exits by reason, all vCPUs */
	const char *exit_name[API_MAX_EXITS];	/* NULL: not reported */
	uint64_t pauses, last_pause_ns, clock_ctrl_ok;
	int nnets;
	struct { uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped; } net[8];
	uint64_t i8042_keys;			/* scancodes queued by SendCtrlAltDel */
};

/* The running VM, as the API may touch it. Called on the API thread only, never at the same time
 * as api_vm_gone(). Each returns 0 or -errno. */
struct api_vmm {
	void *ctx;
	int (*pause)(void *ctx, uint64_t *latency_ns);
	int (*resume)(void *ctx);
	int (*ctrl_alt_del)(void *ctx);		/* Ctrl+Alt+Del keystrokes into the i8042 */
	int (*shutdown)(void *ctx);		/* stop the VM like SIGTERM: exit status 0 */
	/* PATCH /drives: the drive (index in the VM's disk order) gets a new backing file. */
	int (*drive_swap)(void *ctx, int index, const char *path, char *err, size_t errlen);
	void (*counters)(void *ctx, struct api_counters *out);
	/* PUT /snapshot/create on a paused VM: the state file and the RAM file (board_snapshot.h). */
	int (*snapshot)(void *ctx, const char *state_path, const char *mem_path, bool diff, char *err,
			size_t errlen);
	/* PUT /migrate: start a live migration (board_migrate.h); GET /migrate: its progress. */
	int (*migrate)(void *ctx, const char *url, unsigned downtime_ms, unsigned bandwidth_mbps,
		       bool disks, char *err, size_t errlen);
	void (*migrate_progress)(void *ctx, struct migrate_progress *out);
	/* The balloon (api_balloon.c): a new target and/or stats interval (-1: unchanged); its state.
	 * -ENODEV without a balloon device. */
	int (*balloon_set)(void *ctx, int64_t amount_mib, int64_t stats_interval_s);
	int (*balloon_get)(void *ctx, struct vballoon_info *out);
};

struct api_options {
	const char *sock_path;		/* NULL: no socket (--config-file --no-api): logger/metrics only */
	const char *id;			/* instance id for GET / (NULL: "anonymous-instance") */
	const char *config_file;	/* Firecracker-shaped JSON: configure and start with no API call */
	const struct vm_config *cfg;	/* set: the VM was configured by `ckvm run` flags */
	/* Limits; 0 = the defaults (5000 ms to send a whole request, 60000 ms idle keep-alive,
	 * 5000 ms to take a response, 64 connections). */
	int request_timeout_ms, idle_timeout_ms, write_timeout_ms, max_conns;
};

struct api;

/* Create the socket (mode 0600; refused when PATH is live or not a socket; a stale one is
 * replaced), load the config file, start the "api" thread. SIGINT/SIGTERM/SIGHUP get blocked in
 * the calling thread (call it from main before other threads exist); until the VM starts the
 * API thread takes them. 0 or -errno after one logged line. */
int api_create(struct api **out, const struct api_options *o);
/* Block until a configuration is ready: from flags or the config file at once, else when
 * InstanceStart arrives. *cfg stays valid until api_destroy(). 0, or -ECANCELED when ckvm should
 * end without a VM (a signal, the Shutdown action). */
int api_wait_start(struct api *a, const struct vm_config **cfg);
/* After board_create: status 0 and the VM's operations, or the exit status and the message to
 * answer InstanceStart with. */
void api_vm_created(struct api *a, int status, const char *msg, const struct api_vmm *vmm);
/* The VM has stopped and is about to be freed: last metrics, no more calls into it. */
void api_vm_gone(struct api *a);
/* Answer what is pending, stop the thread, close every connection, remove the socket. */
void api_destroy(struct api *a);

#endif
