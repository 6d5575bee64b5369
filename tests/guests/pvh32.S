/* pvh32: PVH boot ABI (Xen arch/x86/include/public/arch-x86/hvm/start_info.h). Entered in 32-bit
 * protected mode, paging off, EBX = hvm_start_info. Checks the magic, that the memory map (version
 * >= 1) has a RAM entry covering where we are loaded, and prints the command line ckvm passed. */
#include "guest.h"

#define SI_MAGIC	0
#define SI_VERSION	4
#define SI_CMDLINE	24
#define SI_MEMMAP	40
#define SI_MEMMAP_N	48
#define MM_ENTRY_SIZE	24		/* addr u64, size u64, type u32, reserved u32 */
#define E820_RAM	1

	PVH_ENTRY32
	mov	$0x8000, %esp		/* low memory is RAM; the ABI leaves the stack to us */
	mov	%cr0, %eax
	test	$1, %eax
	jz	no_pe
	test	$0x80000000, %eax
	jnz	pg_on
	test	%ebx, %ebx
	jz	bad_magic
	cmpl	$HVM_START_MAGIC, SI_MAGIC(%ebx)
	jne	bad_magic
	PUTS32	"PVH OK\n"

	/* memory map: some E820_RAM entry must contain 1 MiB (our load address) */
	cmpl	$1, SI_VERSION(%ebx)
	jb	no_memmap
	mov	SI_MEMMAP_N(%ebx), %ecx
	test	%ecx, %ecx
	jz	no_memmap
	cmpl	$0, SI_MEMMAP + 4(%ebx)
	jne	no_memmap		/* table above 4 GiB: unreachable without paging */
	mov	SI_MEMMAP(%ebx), %esi
1:	cmpl	$E820_RAM, 16(%esi)
	jne	2f
	cmpl	$0, 4(%esi)		/* addr high */
	jne	2f
	cmpl	$0x100000, (%esi)	/* addr <= 1 MiB */
	ja	2f
	mov	(%esi), %eax		/* addr + size > 1 MiB (size high nonzero counts too) */
	mov	12(%esi), %edx
	add	8(%esi), %eax
	adc	$0, %edx
	jnz	3f
	cmp	$0x100000, %eax
	ja	3f
2:	add	$MM_ENTRY_SIZE, %esi
	loop	1b
	jmp	no_ram
3:	PUTS32	"memmap OK\n"

	/* command line */
	cmpl	$0, SI_CMDLINE + 4(%ebx)
	jne	no_cmdline
	cmpl	$0, SI_CMDLINE(%ebx)
	je	no_cmdline
	PUTS32	"cmdline: "
	mov	SI_CMDLINE(%ebx), %esi
	call	puts32
	PUTS32	"\n"
	TEST_EXIT 0x11

no_pe:	mov	$msg_pe, %esi
	jmp	fail32
pg_on:	mov	$msg_pg, %esi
	jmp	fail32
bad_magic:
	mov	$msg_magic, %esi
	jmp	fail32
no_memmap:
	mov	$msg_memmap, %esi
	jmp	fail32
no_ram:	mov	$msg_ram, %esi
	jmp	fail32
no_cmdline:
	mov	$msg_cmdline, %esi
	jmp	fail32

	.section .rodata
msg_pe:	.asciz	"CR0.PE clear: not in protected mode"
msg_pg:	.asciz	"CR0.PG set: PVH entry must have paging off"
msg_magic: .asciz "EBX does not point at hvm_start_info (magic 0x336ec578)"
msg_memmap: .asciz "no memory map in hvm_start_info"
msg_ram: .asciz	"no RAM entry in the memory map covers 1 MiB"
msg_cmdline: .asciz "no command line in hvm_start_info"
