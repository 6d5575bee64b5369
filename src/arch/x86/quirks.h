/* Software-KVM hosts (KVM without VT-x/SVM, e.g. kvm_pvm) emulate guest ring 0 and cannot emulate
 * some instructions; detect them and patch around the gaps. Inert on VT-x/SVM hosts. */
#ifndef CKVM_X86_QUIRKS_H
#define CKVM_X86_QUIRKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct kvm_run;

/* True when the host CPU has neither VMX nor SVM (KVM is then a software implementation). */
bool quirks_host_is_soft_kvm(void);
/* The kernel parameters appended for Linux guests on such hosts. */
extern const char quirks_linux_cmdline[];
/* KVM PV features hidden on such hosts: they are hypercalls (vmcall), and a vmcall never returns
 * there (measured: with PV send-IPI a 2-vCPU Linux hangs bringing up its second CPU). Bit mask of
 * (1 << KVM_FEATURE_x). */
extern const uint32_t quirks_kvm_features_off;

enum quirk_action {
	QUIRK_NONE,		/* not an instruction we know how to handle */
	QUIRK_INT3,		/* skip it, inject #BP */
	QUIRK_SKIP,		/* fwait: skip */
	QUIRK_CLAC,		/* clear RFLAGS.AC, skip */
	QUIRK_STAC,		/* set RFLAGS.AC, skip */
};

/* Decode the failing instruction (legacy/REX prefixes allowed); *len = its length. Pure function. */
enum quirk_action quirks_decode(const uint8_t *insn, size_t n, size_t *len);
/* KVM_EXIT_INTERNAL_ERROR/EMULATION handler for struct vm's emul_failure hook: 0 = handled. */
int quirks_emulation_failure(struct vcpu *v, struct kvm_run *run);

#endif
