/* The vCPU exit table fed fabricated kvm_run exits (no /dev/kvm), and the soft-KVM decoder. */
#include <linux/kvm.h>
#include <stdlib.h>

#include "arch/x86/quirks.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "test.h"

static uint8_t port_val;
static unsigned port_writes;

static void p_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	(void)dev;
	memset(data, (int)(0x10 + off), len);
}

static void p_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	(void)dev;
	(void)off;
	(void)len;
	port_val = *(const uint8_t *)data;
	port_writes++;
}

static const struct bus_ops pops = { .read = p_read, .write = p_write };

static struct vm vm;
static struct vcpu vc;
static union {
	struct kvm_run run;
	uint8_t page[4096];
} r;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&vm.lock, NULL);
	pthread_cond_init(&vm.stopped, NULL);
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	bus_add(&vm.pio, 0x3f8, 8, &pops, NULL, "p");
	bus_add(&vm.mmio, 0xd0000000, 0x1000, &pops, NULL, "m");
	vc.vm = &vm;
	port_writes = 0;
}

static void teardown(void)
{
	bus_free(&vm.pio);
	bus_free(&vm.mmio);
}

static void test_io_out_string(void)
{
	setup();
	r.run.exit_reason = KVM_EXIT_IO;
	r.run.io.direction = KVM_EXIT_IO_OUT;
	r.run.io.size = 1;
	r.run.io.port = 0x3f8;
	r.run.io.count = 3;		/* rep outsb */
	r.run.io.data_offset = 512;
	memcpy(r.page + 512, "abc", 3);
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_CONTINUE);
	CHECK_EQ(port_writes, 3);
	CHECK_EQ(port_val, 'c');
	CHECK_EQ(vm.stop_reason, VM_STOP_NONE);
	teardown();
}

static void test_io_in_unclaimed_and_bad_size(void)
{
	setup();
	r.run.exit_reason = KVM_EXIT_IO;
	r.run.io.direction = KVM_EXIT_IO_IN;
	r.run.io.size = 4;
	r.run.io.port = 0x1234;
	r.run.io.count = 1;
	r.run.io.data_offset = 512;
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_CONTINUE);
	CHECK_EQ(*(uint32_t *)(r.page + 512), 0xffffffff);
	r.run.io.port = 0x3fa;
	r.run.io.size = 1;
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_CONTINUE);
	CHECK_EQ(r.page[512], 0x12);			/* offset 2 relative to the device */
	r.run.io.size = 3;				/* impossible width: ignored */
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_CONTINUE);
	teardown();
}

static void test_mmio(void)
{
	setup();
	r.run.exit_reason = KVM_EXIT_MMIO;
	r.run.mmio.phys_addr = 0xd0000004;
	r.run.mmio.len = 4;
	r.run.mmio.is_write = 0;
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_CONTINUE);
	CHECK_EQ(r.run.mmio.data[0], 0x14);
	r.run.mmio.phys_addr = 0xe0000000;
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_CONTINUE);
	CHECK_EQ(*(uint32_t *)r.run.mmio.data, 0xffffffff);
	r.run.mmio.len = 200;				/* hostile length: ignored */
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_CONTINUE);
	teardown();
}

static void test_stops(void)
{
	setup();
	r.run.exit_reason = KVM_EXIT_SHUTDOWN;
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_STOP);
	CHECK_EQ(vm.stop_reason, VM_STOP_CRASH);
	CHECK(strstr(vm.stop_msg, "triple fault") != NULL);
	teardown();

	setup();
	r.run.exit_reason = KVM_EXIT_HLT;
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_STOP);
	CHECK_EQ(vm.stop_reason, VM_STOP_POWEROFF);
	teardown();

	setup();
	r.run.exit_reason = 12345;			/* unknown exit reason */
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_STOP);
	CHECK_EQ(vm.stop_reason, VM_STOP_HOST_ERROR);
	teardown();

	setup();
	r.run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
	r.run.internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
	CHECK_EQ(vcpu_handle_exit(&vc, &r.run), VCPU_STOP);
	CHECK_EQ(vm.stop_reason, VM_STOP_CRASH);
	/* First stop wins. */
	vm_stop(&vm, VM_STOP_POWEROFF, 0, "later");
	CHECK_EQ(vm.stop_reason, VM_STOP_CRASH);
	teardown();
}

static void test_quirk_decode(void)
{
	static const uint8_t int3[] = { 0xcc }, fwait[] = { 0x9b }, clac[] = { 0x0f, 0x01, 0xca },
		stac[] = { 0x0f, 0x01, 0xcb }, pfx_int3[] = { 0x66, 0x48, 0xcc },
		popcnt[] = { 0xf3, 0x0f, 0xb8, 0xc0 }, only_pfx[] = { 0x66, 0x66, 0x66 },
		short_clac[] = { 0x0f, 0x01 };
	uint8_t all_pfx[32];
	size_t len = 0;

	CHECK_EQ(quirks_decode(int3, 1, &len), QUIRK_INT3);
	CHECK_EQ(len, 1);
	CHECK_EQ(quirks_decode(fwait, 1, &len), QUIRK_SKIP);
	CHECK_EQ(quirks_decode(clac, 3, &len), QUIRK_CLAC);
	CHECK_EQ(len, 3);
	CHECK_EQ(quirks_decode(stac, 3, &len), QUIRK_STAC);
	CHECK_EQ(quirks_decode(pfx_int3, 3, &len), QUIRK_INT3);
	CHECK_EQ(len, 3);
	CHECK_EQ(quirks_decode(popcnt, 4, &len), QUIRK_NONE);
	CHECK_EQ(quirks_decode(only_pfx, 3, &len), QUIRK_NONE);
	CHECK_EQ(quirks_decode(short_clac, 2, &len), QUIRK_NONE);
	CHECK_EQ(quirks_decode(int3, 0, &len), QUIRK_NONE);
	memset(all_pfx, 0x66, sizeof(all_pfx));
	CHECK_EQ(quirks_decode(all_pfx, sizeof(all_pfx), &len), QUIRK_NONE);
}

int main(void)
{
	RUN(test_io_out_string);
	RUN(test_io_in_unclaimed_and_bad_size);
	RUN(test_mmio);
	RUN(test_stops);
	RUN(test_quirk_decode);
	return test_summary();
}
