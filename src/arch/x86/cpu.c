/* x86 vCPU power-on state (Intel SDM vol. 3 ch. 9; Linux boot.rst 64-bit protocol; Xen PVH ABI):
 * boot GDT + identity page tables, registers per entry mode, CPUID, FPU, MSRs, LAPIC LINT pins.
 * Runs on the main thread before the vCPU threads start. */
#include "arch/x86/cpu.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/layout.h"
#include "core/vcpu.h"

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define PTE_P_RW 0x3ULL
#define PTE_PS 0x80ULL

#define SEL_CODE32 0x08
#define SEL_CODE64 0x10		/* __BOOT_CS */
#define SEL_DATA 0x18		/* __BOOT_DS */
#define SEL_TSS 0x20

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 1ULL

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static const uint64_t boot_gdt[] = {
	[0] = 0,
	[SEL_CODE32 / 8] = 0x00cf9b000000ffffULL,	/* 32-bit code, flat 4 GiB */
	[SEL_CODE64 / 8] = 0x00af9b000000ffffULL,	/* 64-bit code */
	[SEL_DATA / 8] = 0x00cf93000000ffffULL,		/* data, flat 4 GiB */
	[SEL_TSS / 8] = 0x00008b0000000067ULL,		/* 32-bit busy TSS, base 0 */
};

int x86_boot_tables_write(const struct guest_mem *gm)
{
	uint64_t *pml4 = gm_ptr(gm, LAYOUT_PML4_GPA, 4096);
	uint64_t *pdpt = gm_ptr(gm, LAYOUT_PDPT_GPA, 4096);
	uint64_t *pd = gm_ptr(gm, LAYOUT_PD_GPA, 4 * 4096);
	int i;

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT_GPA | PTE_P_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD_GPA + (uint64_t)i * 4096) | PTE_P_RW;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P_RW | PTE_PS;
	return gm_write(gm, LAYOUT_GDT_GPA, boot_gdt, sizeof(boot_gdt));
}

static struct kvm_segment flat_seg(uint16_t sel)
{
	struct kvm_segment s = {
		.base = 0, .limit = 0xffffffff, .selector = sel, .present = 1, .s = 1, .g = 1,
	};
	uint64_t d = boot_gdt[sel / 8];

	s.type = (uint8_t)((d >> 40) & 0xf);
	s.db = (uint8_t)((d >> 54) & 1);
	s.l = (uint8_t)((d >> 53) & 1);
	return s;
}

static void sregs_protected(struct kvm_sregs *sr, uint16_t code_sel)
{
	sr->cs = flat_seg(code_sel);
	sr->ds = sr->es = sr->fs = sr->gs = sr->ss = flat_seg(SEL_DATA);
	sr->tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .selector = SEL_TSS, .type = 0xb,
				       .present = 1 };
	sr->gdt.base = LAYOUT_GDT_GPA;
	sr->gdt.limit = sizeof(boot_gdt) - 1;
	sr->idt.base = 0;
	sr->idt.limit = 0;
	sr->cr0 = CR0_PE | CR0_ET | CR0_NE;
	sr->cr4 = 0;
	sr->efer = 0;
}

int x86_vcpu_boot_regs(struct vcpu *v, const struct boot_info *bi)
{
	struct kvm_sregs sr;
	struct kvm_regs r = { .rflags = 2 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	switch (bi->mode) {
	case BOOT_ENTRY_REAL16:
		sr.cs.selector = bi->real_cs;
		sr.cs.base = (uint64_t)bi->real_cs << 4;
		sr.ds = sr.es = sr.ss = sr.fs = sr.gs = sr.cs;
		sr.ds.type = sr.es.type = sr.ss.type = sr.fs.type = sr.gs.type = 3;
		r.rip = bi->entry_gpa - sr.cs.base;
		break;
	case BOOT_ENTRY_PVH32:
		sregs_protected(&sr, SEL_CODE32);
		r.rip = bi->entry_gpa;
		r.rbx = bi->start_info_gpa;
		break;
	case BOOT_ENTRY_LINUX64:
		sregs_protected(&sr, SEL_CODE64);
		sr.cr0 |= CR0_PG;
		sr.cr3 = LAYOUT_PML4_GPA;
		sr.cr4 = CR4_PAE;
		sr.efer = EFER_LME | EFER_LMA;
		r.rip = bi->entry_gpa;
		r.rsi = bi->zero_page_gpa;
		r.rsp = r.rbp = LAYOUT_BOOT_STACK_GPA;
		break;
	default:
		return -EINVAL;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0 || ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

static uint32_t lvt_mode(uint32_t reg, uint32_t mode)
{
	return (reg & ~0x700u) | (mode << 8);
}

static int lapic_lint_setup(struct vcpu *v)
{
	struct kvm_lapic_state la;
	uint32_t *lint0 = (uint32_t *)&la.regs[APIC_LVT_LINT0];
	uint32_t *lint1 = (uint32_t *)&la.regs[APIC_LVT_LINT1];

	if (ioctl(v->fd, KVM_GET_LAPIC, &la) < 0)
		return -errno;
	*lint0 = lvt_mode(*lint0, APIC_MODE_EXTINT);
	*lint1 = lvt_mode(*lint1, APIC_MODE_NMI);
	return ioctl(v->fd, KVM_SET_LAPIC, &la) < 0 ? -errno : 0;
}

int x86_vcpu_init(struct vcpu *v, const struct kvm_cpuid2 *cpuid, int lapic)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} msrs = { .hdr.nmsrs = 1, .e[0] = { .index = MSR_IA32_MISC_ENABLE,
					      .data = MISC_ENABLE_FAST_STRING } };

	if (cpuid && ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0)
		return -errno;
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	if (ioctl(v->fd, KVM_SET_MSRS, &msrs) < 0)
		return -errno;
	return lapic ? lapic_lint_setup(v) : 0;
}

bool x86_host_invariant_tsc(void)
{
	unsigned a, b, c, d;

	return __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
}

bool x86_host_cpu_brand(uint32_t brand[12])
{
	unsigned a, b, c, d, i;

	if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000004)
		return false;
	for (i = 0; i < 3; i++) {
		__get_cpuid(0x80000002 + i, &a, &b, &c, &d);
		brand[4 * i] = a;
		brand[4 * i + 1] = b;
		brand[4 * i + 2] = c;
		brand[4 * i + 3] = d;
	}
	return true;
}
