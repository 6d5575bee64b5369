/* QEMU-validation shim only (linked into NAME-qemu.elf, never into what ckvm runs): a PVH 32-bit
 * entry that builds the same 64-bit state ckvm's ELF64 loader provides (identity map 0-4 GiB with
 * 2 MiB pages, flat 64-bit code segment, stack at 0x8000) and jumps to the guest's 64-bit _start. */
#include "guest.h"

	PVH_NOTE pvh64_start

	.text
	.code32
pvh64_start:
	cld
	/* zero PML4 and PDPT */
	mov	$pml4, %edi
	xor	%eax, %eax
	mov	$2048, %ecx
	rep stosl
	/* four page directories: 2048 x 2 MiB, present+writable+large */
	mov	$pd, %edi
	mov	$0x83, %eax
	mov	$2048, %ecx
1:	mov	%eax, (%edi)
	movl	$0, 4(%edi)
	add	$8, %edi
	add	$0x200000, %eax
	loop	1b
	mov	$pdpt, %edi
	mov	$pd + 3, %eax
	mov	$4, %ecx
2:	mov	%eax, (%edi)
	add	$8, %edi
	add	$4096, %eax
	loop	2b
	movl	$pdpt + 3, pml4
	/* PAE, CR3, EFER.LME, paging */
	mov	%cr4, %eax
	or	$0x20, %eax
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx
	rdmsr
	or	$0x100, %eax
	wrmsr
	lgdt	gdt_desc
	mov	%cr0, %eax
	or	$0x80000001, %eax
	mov	%eax, %cr0
	ljmp	$0x08, $3f
	.code64
3:	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	$0x8000, %esp
	xor	%esi, %esi
	jmp	_start

	.section .rodata
	.balign	8
gdt:	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff	/* 0x10: data */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

	.bss
	.balign	4096
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4 * 4096
