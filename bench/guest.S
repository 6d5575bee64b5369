/* Exit-cost benchmark guest (PVH entry, 32-bit protected mode). Writes N times to an I/O port no
 * device claims in ckvm or QEMU (each write is one VM exit to user space), prints the TSC cycles the
 * loop took as "cycles=C n=N", and leaves through the test-exit port with 0 (status 1).
 * N is the first decimal number on the kernel command line; BENCH_N (default 20000) without one.
 * A command line starting with 'm' ("mmio=N") writes N bytes to guest-physical BENCH_MMIO instead:
 * no RAM there, so each is an MMIO exit (inside ckvm's PCI window, where no BAR lies; unassigned in QEMU). */
#include "guest.h"

#ifndef BENCH_N
#define BENCH_N		20000
#endif
#define BENCH_PORT	0x1234
#define BENCH_MMIO	0xd0000000
#define SI_CMDLINE	24

	PVH_ENTRY32
	mov	$0x8000, %esp
	mov	$BENCH_N, %ecx
	test	%ebx, %ebx
	jz	go
	cmpl	$HVM_START_MAGIC, (%ebx)
	jne	go
	mov	SI_CMDLINE(%ebx), %esi
	test	%esi, %esi
	jz	go
	cmpb	$'m', (%esi)
	jne	1f
	movb	$1, mmio
1:	movzbl	(%esi), %eax		/* skip to the first digit */
	test	%eax, %eax
	jz	go
	sub	$'0', %eax
	cmp	$9, %eax
	jbe	2f
	inc	%esi
	jmp	1b
2:	xor	%ecx, %ecx
3:	movzbl	(%esi), %eax
	sub	$'0', %eax
	cmp	$9, %eax
	ja	go
	imul	$10, %ecx, %ecx
	add	%eax, %ecx
	inc	%esi
	jmp	3b

go:	mov	%ecx, n
	rdtsc
	mov	%eax, %edi
	mov	%edx, %ebp
	mov	$BENCH_PORT, %dx
	mov	$BENCH_MMIO, %ebx
	jecxz	5f
	cmpb	$0, mmio
	jne	7f
4:	out	%al, (%dx)
	dec	%ecx
	jnz	4b
	jmp	5f
7:	movb	%al, (%ebx)
	dec	%ecx
	jnz	7b
5:	rdtsc
	sub	%edi, %eax
	sbb	%ebp, %edx
	PUTS32	"cycles="
	call	put_u64
	PUTS32	" n="
	mov	n, %eax
	xor	%edx, %edx
	call	put_u64
	PUTS32	"\n"
	TEST_EXIT 0

/* put_u64: print %edx:%eax in decimal. */
put_u64:
	mov	$digits_end, %edi
	movb	$0, (%edi)
6:	mov	%eax, %ebx		/* 64-by-32 division in two steps: high half, then low half */
	mov	%edx, %eax
	xor	%edx, %edx
	mov	$10, %ecx
	div	%ecx
	mov	%eax, %esi		/* quotient high */
	mov	%ebx, %eax
	div	%ecx			/* edx = remainder, eax = quotient low */
	add	$'0', %dl
	dec	%edi
	mov	%dl, (%edi)
	mov	%esi, %edx
	mov	%eax, %ebx
	or	%edx, %ebx
	jnz	6b
	mov	%edi, %esi
	jmp	puts32

	.bss
n:	.long	0
mmio:	.byte	0
digits:	.skip	24
digits_end: .skip 1
