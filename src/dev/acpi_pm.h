/* ACPI PM fixed hardware: PM1a event block (PM1_STS, PM1_EN), PM1a control (SLP_TYP/SLP_EN -> power off)
 * and the 3.579545 MHz PM timer. One port range of ACPI_PM_IO_LEN bytes at PORT_ACPI_PM_BASE. */
#ifndef CKVM_DEV_ACPI_PM_H
#define CKVM_DEV_ACPI_PM_H

#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/vmm_ops.h"

/* Register offsets inside the range and the bits we model (ACPI 6.x 4.8.3). */
#define ACPI_PM_STS_OFF		0	/* PM1_STS, write-one-to-clear */
#define ACPI_PM_EN_OFF		2	/* PM1_EN */
#define ACPI_PM_CNT_OFF		4	/* PM1_CNT */
#define ACPI_PM_TMR_REG_OFF	8	/* PM_TMR, read-only */
#define ACPI_PM_RANGE_LEN	12

#define ACPI_PM1_CNT_SCI_EN	(1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << 10)
#define ACPI_PM1_CNT_SLP_EN	(1u << 13)
#define ACPI_PM1_STS_WAK	(1u << 15)

#define ACPI_PM_TIMER_HZ	3579545ULL

/* The sleep type that means "soft off": must equal the DSDT's \_S5_ value (ACPI_SLP_TYP_S5). */
#define ACPI_PM_SLP_TYP_S5	5

struct acpi_pm;

extern const struct bus_ops acpi_pm_ops;

/* vmm receives VM_STOP_POWEROFF on an S5 request; it must outlive the device. 0 or -ENOMEM. */
int acpi_pm_create(struct acpi_pm **out, const struct vmm_ops *vmm);
void acpi_pm_destroy(struct acpi_pm *pm);
/* Its lifecycle (device.h), kind "acpi-pm", name "acpi-pm": save stores the registers and the PM
 * timer's value, restore makes the timer continue from that value. The destroy op is acpi_pm_destroy. */
struct device *acpi_pm_device(struct acpi_pm *pm);

/* PM timer ticks (mod 2^32) after ns nanoseconds: pure, exposed for tests. */
uint32_t acpi_pm_timer_ticks(uint64_t ns);
/* The least ns at which acpi_pm_timer_ticks(ns) == ticks (its inverse below 2^32 ticks). */
uint64_t acpi_pm_timer_ns(uint32_t ticks);

#endif
