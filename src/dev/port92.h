/* System control port A (port 0x92, "fast A20 and reset", IBM PS/2 and every PC chipset since):
 * bit 1 gates address line 20, bit 0 going from 0 to 1 resets the CPU. SeaBIOS switches A20 through it
 * for int 15h AH=87h (and its floppy RAM disk); boot sectors write it to enable A20. */
#ifndef CKVM_DEV_PORT92_H
#define CKVM_DEV_PORT92_H

#include "core/bus.h"
#include "core/device.h"
#include "core/vmm_ops.h"

#define PORT92_NR_PORTS	1	/* bus_add(pio, 0x92, PORT92_NR_PORTS, &port92_bus_ops, p, "port92") */
#define PORT92_RESET	0x01	/* write 1: fast reset (a reboot) */
#define PORT92_A20	0x02	/* reads 1 always: ckvm's guests never see address line 20 masked */

struct port92;

/* 0 or -ENOMEM. vmm must outlive the device (its request_stop ends the VM with VM_STOP_REBOOT). */
int port92_create(struct port92 **out, const struct vmm_ops *vmm);
void port92_destroy(struct port92 *p);
/* Its lifecycle (device.h), kind "port92", name "port92": saves the last written bits besides A20
 * and reset (bits 2-7, which some chipsets keep). Destroy op: port92_destroy. */
struct device *port92_device(struct port92 *p);

/* Byte reads: the stored bits 2-7 | PORT92_A20 (bit 0 reads 0: the reset has no state). Writes of
 * the low byte: bit 0 set asks for a reboot (as on real chipsets, where the bit was last 0), A20 is
 * ignored (always on), bits 2-7 are kept. Safe from any vCPU thread (one atomic byte). */
extern const struct bus_ops port92_bus_ops;

#endif
