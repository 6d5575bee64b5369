/* What a parsed configuration looks like to the user: --print-config (one key=value per line, the
 * shape the tests and --config-file round trips compare) and --help. Main thread. */
#include "config.h"

#include <stdio.h>

#include "virtio/vhost_user_fs.h"


void config_print(const struct vm_config *c, FILE *f)
{
	static const char *const fmt[] = { "auto", "bzimage", "elf", "raw" };
	int i;

	if (c->bios)
		fprintf(f, "bios=%s\n", c->bios);
	if (c->floppy)
		fprintf(f, "floppy=%s\n", c->floppy);
	fprintf(f, "kernel=%s\nkernel-format=%s\n", c->kernel ? c->kernel : "", fmt[c->kernel_format]);
	fprintf(f, "kernel-decompress=%s\n", c->kernel_decompress == KDECOMP_GUEST ? "guest" : "host");
	if (c->kernel_format == KFMT_RAW)
		fprintf(f, "load-addr=0x%llx\nentry=0x%llx\n", (unsigned long long)c->load_gpa,
			(unsigned long long)c->entry_gpa);
	fprintf(f, "initrd=%s\ncmdline=%s\n", c->initrd ? c->initrd : "", c->cmdline ? c->cmdline : "");
	fprintf(f, "memory=%lluM\ncpus=%u\n", (unsigned long long)(c->memory_bytes >> 20), c->cpus);
	fprintf(f, "memory-backing=%s\n", c->memory_hugepages ? "hugepages" :
		c->memory_shared ? "shared" : "private");
	fprintf(f, "serial=%s%s\n", c->serial == SERIAL_STDIO ? "stdio" : c->serial == SERIAL_NONE ?
		"none" : "file=", c->serial == SERIAL_FILE ? c->serial_path : "");
	fprintf(f, "test-exit=%s\nhost-quirks=%s\nacpi=%s\npv-off=0x%x\n", c->test_exit ? "on" : "off",
		c->host_quirks ? "on" : "off", c->acpi ? "on" : "off", c->pv_off);
	fprintf(f, "boot-timer=%s\n", c->boot_timer ? "on" : "off");
	if (c->debugcon != DEBUGCON_OFF)
		fprintf(f, "debug-console=%s%s,timestamps=%s\n", c->debugcon == DEBUGCON_STDIO ? "stdio" :
			"file=", c->debugcon == DEBUGCON_FILE ? c->debugcon_path : "",
			c->debugcon_timestamps ? "on" : "off");
	for (i = 0; i < c->ndisks; i++)
		if (c->disks[i].vhost_user)
			fprintf(f, "disk=vhost_user=on,socket=%s\n", c->disks[i].path);
		else
			fprintf(f, "disk=path=%s,readonly=%s%s%s%s\n", c->disks[i].path,
				c->disks[i].readonly ? "on" : "off", c->disks[i].serial ? ",serial=" : "",
				c->disks[i].serial ? c->disks[i].serial : "", c->disks[i].ide ? ",if=ide" : "");
	for (i = 0; i < c->nnets; i++) {
		const uint8_t *m = c->nets[i].mac;

		if (c->nets[i].vhost_user)
			fprintf(f, "net=vhost_user=on,socket=%s", c->nets[i].socket);
		else
			fprintf(f, "net=tap=%s", c->nets[i].tap);
		if (c->nets[i].mac_set)
			fprintf(f, ",mac=%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		fputc('\n', f);
	}
	for (i = 0; i < c->nfs; i++)
		fprintf(f, "fs=tag=%s,socket=%s,queues=%u,queue_size=%u\n", c->fs[i].tag, c->fs[i].socket,
			c->fs[i].queues, c->fs[i].queue_size ? c->fs[i].queue_size : VUFS_QUEUE_SIZE_DEFAULT);
	config_vdevs_print(c, f);
	fprintf(f, "seccomp=%s\n", c->seccomp == SANDBOX_KILL ? "kill" :
		c->seccomp == SANDBOX_LOG ? "log" : "off");
	if (c->gdb)
		fprintf(f, "gdb=%s\ngdb-wait=%s\n", c->gdb, c->gdb_wait ? "on" : "off");
	for (i = 0; c->test.enabled && i < (int)c->test.n_expect; i++)
		fprintf(f, "expect=%s\n", c->test.expect[i]);
	for (i = 0; c->test.enabled && i < (int)c->test.n_fail_on; i++)
		fprintf(f, "fail-on=%s\n", c->test.fail_on[i]);
	if (c->test.enabled)
		fprintf(f, "timeout=%s\nscreen-dump=%s\nreport=%s\n", c->test.timeout ? c->test.timeout :
			"60s", c->test.screen_dump ? c->test.screen_dump : "",
			c->test.report ? c->test.report : "");
}

void config_usage(FILE *f)
{
	fputs("usage: ckvm run --kernel PATH [options]   or   ckvm run --bios [PATH] --disk ... [options]\n"
	      "       ckvm test --kernel PATH|--bios --disk ... [run options] [test options]\n"
	      "       ckvm --api-sock PATH [--config-file FILE] [--id ID] [--verbose]\n"
	      "       ckvm --config-file FILE --no-api [--id ID] [--verbose]\n"
	      "       ckvm ctl --api-sock PATH info|pause|resume|shutdown|config\n"
	      "       ckvm ctl --api-sock PATH snapshot --to DIR\n"
	      "       ckvm --help | --version\n\n"
	      "run options:\n"
	      "  --kernel PATH           bzImage, ELF vmlinux (PVH note or 64-bit entry) or raw binary\n"
	      "  --initrd PATH           initial ramdisk\n"
	      "  --cmdline STR           kernel command line\n"
	      "  --memory SIZE           guest RAM, K/M/G/T suffixes (default 512M, at least 16M)\n"
	      "  --memory size=SIZE[,shared=on][,hugepages=on]  RAM in a memfd shared with vhost-user\n"
	      "                          back-ends, on huge pages (needs free ones: /proc/sys/vm/nr_hugepages)\n"
	      "  --cpus N                vCPUs (default 1; the host's KVM limit, 254 with --no-acpi)\n"
	      "  --serial MODE           stdio (default), file=PATH or none\n"
	      "  --test-exit             enable the test-exit port 0x501 (exit code (V<<1)|1)\n"
	      "  --kernel-format F       auto (default), bzimage, elf or raw\n"
	      "  --kernel-decompress W   bzImage payload inflated by the host (default; KASLR unless\n"
	      "                          nokaslr) or by the guest's own decompressor\n"
	      "  --load-addr A --entry A raw format: load and real-mode entry address (< 1 MiB)\n"
	      "  --disk path=F[,readonly=on][,serial=ID][,if=virtio|ide]   disk (raw image): virtio-blk,\n"
	      "                          or ATA PIO at 0x1f0 (if=ide, at most 2), repeatable\n"
	      "  --bios [PATH]           boot firmware (default " CONFIG_BIOS_DEFAULT ", 128 KiB)\n"
	      "                          instead of a kernel; it boots the disks\n"
	      "  --floppy PATH           with --bios: a floppy image (360K..2.88M) as drive A:\n"
	      "  --net tap=NAME[,mac=M]  virtio-net on a tap device, repeatable\n"
	      "  --net vhost_user=on,socket=PATH[,mac=M]   virtio-net whose queues a vhost-user\n"
	      "                          back-end serves (e.g. dpdk-testpmd); needs --memory ...,shared=on\n"
	      "  --rng[=bytes_per_sec=N] virtio-rng fed by getrandom(), optionally rate-limited\n"
	      "  --vsock cid=N,socket=PATH   virtio-vsock, Firecracker's hybrid mode: host clients\n"
	      "                          connect to PATH, guest connections to port P reach PATH_P\n"
	      "  --balloon size=N[M][,deflate_on_oom=on][,stats=on]   virtio-balloon, N MiB at boot\n"
	      "  --fs tag=NAME,socket=PATH[,queues=N][,queue_size=N]   virtio-fs served by a vhost-user\n"
	      "                          back-end (virtiofsd) at PATH; needs --memory SIZE,shared=on;\n"
	      "                          repeatable (at most 4)\n"
	      "  --no-acpi               no ACPI tables (MP table only)\n"
	      "  --pv-off LIST           switch off KVM PV features: clock,eoi,unhalt,tlb-flush,\n"
	      "                          send-ipi,steal-time,sched-yield,poll-control,async-pf,all\n"
	      "  --no-host-quirks        no software-KVM workarounds\n"
	      "  --boot-timer            log the guest's boot time when it writes 123 to MMIO 0xfe000000\n"
	      "                          or port 0x504 (Firecracker's boot-timer signal)\n"
	      "  --debug-console stdio|file=PATH[,timestamps=on]   debug console on ports 0xe9/0x402\n"
	      "  --print-config          print the parsed configuration and exit\n"
	      "  --verbose               debug logging\n"
	      "  --api-sock PATH         serve Firecracker's HTTP API on this Unix socket (0600)\n"
	      "  --seccomp kill|log|off  per-thread seccomp filters (default kill: a forbidden system\n"
	      "                          call ends ckvm with status 4; log: audit log only)\n"
	      "  --seccomp-test-trigger ROLE   tests only: that thread (main, vcpu, io, vblk,\n"
	      "                          serial-out, api, gdb) makes one forbidden call\n"
	      "  --gdb tcp:ADDR:PORT|unix:PATH   GDB remote stub (one client at a time)\n"
	      "  --gdb-wait              with --gdb: the vCPUs wait for the client's first continue\n"
	      "  --restore DIR           start from the snapshot in DIR (DIR/state, DIR/mem; `ckvm ctl\n"
	      "                          snapshot --to DIR`), with the snapshotted VM's options\n"
	      "  --incoming tcp:ADDR:PORT|unix:PATH   wait for one live migration (`ckvm ctl migrate`)\n"
	      "                          and run the migrated VM (give the source's VM options)\n\n"
	      "test options (ckvm test: headless, test-exit ports on, ends at the first outcome):\n"
	      "  --expect REGEX          serial output must match these, in order (repeatable)\n"
	      "  --fail-on REGEX         fail as soon as the output matches (repeatable)\n"
	      "  --timeout D             give up after D (ms, s, m, h; default 60s)\n"
	      "  --screen-dump PATH      write the VGA text screen (0xb8000) as UTF-8 at the end (- = stdout)\n"
	      "  --report tap[:PATH]|junit:PATH   a TAP or JUnit report\n"
	      "  --name NAME             the test's name (default: the kernel's or first disk's file name)\n"
	      "  --exit-pass V           a test-exit value that counts as a pass in the summary and report\n"
	      "  --serial stdio|none|file=PATH   where the captured output is also copied (default stdout)\n"
	      "  Test exit status: 0 pass, 6 expect not met, 8 fail-on, 10 crash, 12 timeout,\n"
	      "  14 interrupted, (V<<1)|1 test-exit; 1, 2, 4 as for run.\n\n"
	      "Numbers are decimal (addresses also 0x hex). Only --disk, --net, --fs, --pv-off and\n"
	      "--verbose may be given more than once. An output file is never one of the VM's inputs.\n"
	      "Console: Ctrl-A x quits, Ctrl-A h help.\n"
	      "Exit status: 0 guest powered off/rebooted, 1 bad usage or input, 2 host error,\n"
	      "             3 guest crashed (triple fault, unhandled instruction), 4 forbidden system\n"
	      "             call (seccomp), (V<<1)|1 test-exit.\n", f);
}
