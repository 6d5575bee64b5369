/* i8042 keyboard controller with no keyboard or mouse attached, plus system control port B (0x61).
 * Enough for Linux to probe it quickly, find no devices, and reset the machine through it. */
#ifndef CKVM_DEV_I8042_H
#define CKVM_DEV_I8042_H

#include "core/bus.h"
#include "core/vmm_ops.h"

/* One range covers data 0x60, port B 0x61, (0x62, 0x63 unused: all-ones) and command/status 0x64:
 * bus_add(bus, PORT_I8042_DATA, I8042_NR_PORTS, &i8042_bus_ops, kbc, "i8042"). */
#define I8042_NR_PORTS	5

struct i8042;

struct i8042_config {
	const struct vmm_ops *vmm;	/* request_stop(VM_STOP_REBOOT) on a reset pulse */
	/* Keyboard IRQ (ISA IRQ 1) raised while a byte waits and the command byte enables it; < 0 =
	 * not wired. Wiring it lets Linux's atkbd see "no keyboard" at once instead of timing out. */
	int kbd_gsi;
};

/* 0 or -errno. */
int i8042_create(struct i8042 **out, const struct i8042_config *cfg);
void i8042_destroy(struct i8042 *kbc);

extern const struct bus_ops i8042_bus_ops;

/* Queue the keystrokes of Ctrl+Alt+Del for the guest (Firecracker's SendCtrlAltDel): a Linux guest
 * with an AT keyboard driver reboots. Any thread. 0, or -EBUSY while earlier keys wait unread. */
int i8042_ctrl_alt_del(struct i8042 *kbc);
/* Scancodes queued so far (metrics). */
unsigned long i8042_keys_queued(struct i8042 *kbc);

#endif
