/* libFuzzer target: the snapshot state file parser (core/snapshot_fmt.c) and the x86 vCPU/VM payload
 * checks (arch/x86/cpu_state.c) that run on a parsed file before anything reaches KVM. A restore
 * reads these bytes from a file the user hands over; a migration will read them from a socket. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu_state.h"
#include "core/snapshot_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snap_parsed p;
	char err[256], name[SNAP_NAME_MAX];
	const struct snap_section *s;

	if (snap_parse(data, size, &p, err, sizeof(err)))
		return 0;
	/* every section lies inside the input (ASan checks the reads) */
	for (unsigned i = 0; i < p.n; i++) {
		volatile uint8_t sink = 0;

		if (p.sec[i].len)
			sink ^= ((const uint8_t *)p.sec[i].data)[p.sec[i].len - 1];
		(void)sink;
	}
	for (unsigned i = 0; i < p.hdr.ncpus; i++) {
		snprintf(name, sizeof(name), "vcpu%u", i);
		if ((s = snap_find(&p, name)))
			(void)x86_vcpu_state_check(s->data, s->len, err, sizeof(err));
	}
	if ((s = snap_find(&p, "vm")))
		(void)x86_vm_state_check(s->data, s->len, err, sizeof(err));
	return 0;
}
