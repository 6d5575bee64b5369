/* i8042 keyboard controller with a PS/2 keyboard and no mouse, plus system control port B (0x61).
 * Enough for Linux's i8042 and atkbd drivers to find the keyboard (and quickly no mouse), for
 * Ctrl+Alt+Del typed from the API, and to reset the machine through the controller. */
#ifndef CKVM_DEV_I8042_H
#define CKVM_DEV_I8042_H

#include "core/bus.h"
#include "core/device.h"
#include "core/vmm_ops.h"

/* One range covers data 0x60, port B 0x61, (0x62, 0x63 unused: all-ones) and command/status 0x64:
 * bus_add(bus, PORT_I8042_DATA, I8042_NR_PORTS, &i8042_bus_ops, kbc, "i8042"). */
#define I8042_NR_PORTS	5

struct i8042;

struct i8042_config {
	const struct vmm_ops *vmm;	/* request_stop(VM_STOP_REBOOT) on a reset pulse */
	/* Keyboard IRQ (ISA IRQ 1): one rising edge per byte in the output buffer while the command
	 * byte enables it; < 0 = not wired (Linux's atkbd then times out on every reply). */
	int kbd_gsi;
};

/* 0 or -errno. */
int i8042_create(struct i8042 **out, const struct i8042_config *cfg);
void i8042_destroy(struct i8042 *kbc);
/* Its lifecycle interface (kind "i8042", named "i8042"): reset to power-on, save/restore of the
 * controller and keyboard registers and the typed keys; destroy frees kbc. */
struct device *i8042_device(struct i8042 *kbc);

extern const struct bus_ops i8042_bus_ops;

/* Type Ctrl+Alt+Del for the guest (Firecracker's SendCtrlAltDel): a Linux guest with an AT keyboard
 * driver and a VT reboots. The keys come out while the keyboard scans (after Linux's atkbd enabled
 * it), in the scan code set the guest reads. Any thread. 0, or -EBUSY while earlier keys wait
 * unread (the keyboard buffers 16 scancodes). */
int i8042_ctrl_alt_del(struct i8042 *kbc);
/* Scancodes queued so far (metrics). */
unsigned long i8042_keys_queued(struct i8042 *kbc);

#endif
