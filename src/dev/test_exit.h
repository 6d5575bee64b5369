/* Test-exit port (like QEMU's isa-debug-exit): a guest write of V stops the VM with
 * VM_STOP_TEST_EXIT and code V; main turns that into the process exit status (V << 1) | 1. */
#ifndef CKVM_DEV_TEST_EXIT_H
#define CKVM_DEV_TEST_EXIT_H

#include "core/bus.h"
#include "core/device.h"
#include "core/vmm_ops.h"

#define TEST_EXIT_NR_PORTS	2	/* bus_add(bus, PORT_TEST_EXIT, TEST_EXIT_NR_PORTS, ...) */
/* The same device also answers where hobby-OS test suites put QEMU's isa-debug-exit
 * (-device isa-debug-exit,iobase=0xf4,iosize=4): byte, word or dword writes at 0xf4-0xf7. */
#define TEST_EXIT_QEMU_PORT	0xf4
#define TEST_EXIT_QEMU_NR_PORTS	4

struct test_exit;

/* 0 or -ENOMEM. vmm must outlive the device. */
int test_exit_create(struct test_exit **out, const struct vmm_ops *vmm);
void test_exit_destroy(struct test_exit *t);
/* Its lifecycle (device.h), kind "test-exit", name "test-exit"; the destroy op is test_exit_destroy. */
struct device *test_exit_device(struct test_exit *t);

/* Writes of any width (1..8 bytes) at either port: V is the little-endian value of the low 4 bytes,
 * passed as (int)(uint32_t)V, so main should compute the status from the unsigned value.
 * Reads return all-ones. */
extern const struct bus_ops test_exit_bus_ops;

#endif
