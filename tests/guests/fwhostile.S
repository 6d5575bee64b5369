/* A hostile boot sector for --bios (run under the ASan build, like hostile_io): from a fixed seed it
 * makes NOPS random accesses to fw_cfg (selector, data, DMA with hostile descriptors: lengths up to
 * 4 GiB - 1, addresses outside RAM or across its end, unknown control bits), the ATA channel
 * (registers, commands, data port, SRST/nIEN) and port 0x92 (never bit 0, the reset), with interrupts
 * off; then prints "FWHOSTILE OK" through int 10h and writes 0x16 to the test-exit port (status 45).
 * Memory it trusts: its own code at 0x7C00 and the scratch 0x10000-0x2ffff that DMA reads may fill;
 * every other DMA target or descriptor lies outside the 64 MiB of RAM guests.list gives it. The boot
 * sector loads the rest (sectors 2-4) with int 13h first. */
	.code16
	.text
	.globl	_start
#define NOPS		12000
#define DESC		0x0600		/* our DMA descriptor: be32 control, be32 length, be64 address */
#define RAM_END		0x04000000	/* --memory 64M */
_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7c00, %sp
	ljmp	$0, $load
load:					/* the rest (sectors 2-4) to 0000:7E00, through int 13h AH=42h */
	sti
	mov	$0x42, %ah
	mov	$dap, %si
	int	$0x13
	jc	load_fail
	cli
	jmp	main
load_fail:
	mov	$0x17, %al		/* status 47: the loader failed */
	mov	$0x501, %dx
	out	%al, %dx
	hlt
	.balign	4
dap:	.byte	16, 0
	.word	3
	.word	0x7e00, 0
	.quad	1
	.org	510
	.word	0xaa55

main:
	cld
	movl	$0x2545f491, seed
	mov	$NOPS, %cx
loop:
	push	%cx
	call	rand
	mov	%eax, %ebx
	shr	$28, %ebx			/* the op: top 4 bits */
	and	$0x0f, %bx
	shl	$1, %bx
	call	*ops(%bx)
	pop	%cx
	loop	loop

	sti
	mov	$msg_ok, %si
1:	lodsb
	test	%al, %al
	jz	2f
	mov	$0x0e, %ah
	mov	$0x0007, %bx
	int	$0x10
	jmp	1b
2:	mov	$3, %cx			/* let SeaBIOS's serial console flush its last character */
3:	hlt
	loop	3b
	mov	$0x16, %al
	mov	$0x501, %dx
	out	%al, %dx
	cli
4:	hlt
	jmp	4b

ops:	.word	fw_select, fw_select, fw_data, fw_data, fw_wide, fw_dma, fw_dma, fw_dma
	.word	ata_reg, ata_reg, ata_cmd, ata_data, ata_data, ata_ctl, port92, fw_dma

/* xorshift32; the result in EAX (EDX clobbered) */
rand:
	mov	seed, %eax
	mov	%eax, %edx
	shl	$13, %edx
	xor	%edx, %eax
	mov	%eax, %edx
	shr	$17, %edx
	xor	%edx, %eax
	mov	%eax, %edx
	shl	$5, %edx
	xor	%edx, %eax
	mov	%eax, seed
	ret

fw_select:				/* any 16-bit key, write-channel and arch bits included */
	mov	$0x510, %dx
	out	%ax, %dx
	ret
fw_data:				/* a burst of data reads, or a (ignored) data write */
	mov	$0x511, %dx
	test	$0x100, %ax
	jnz	1f
	mov	%al, %cl
	and	$0x3f, %cx
	inc	%cx
2:	in	%dx, %al
	loop	2b
	ret
1:	out	%al, %dx
	ret
fw_wide:				/* odd widths and offsets across the 12 ports */
	mov	%ax, %dx
	and	$0x0f, %dx
	add	$0x510, %dx
	test	$0x10, %ax
	jz	1f
	in	%dx, %eax
	ret
1:	test	$0x20, %ax
	jz	2f
	in	%dx, %ax
	ret
2:	cmp	$0x514, %dx		/* a whole DMA address write is fw_dma's job */
	je	3f
	cmp	$0x518, %dx
	je	3f
	out	%ax, %dx
3:	ret

/* One DMA transfer: a descriptor at DESC (or a descriptor address outside RAM / across its end). */
fw_dma:
	mov	%eax, %ebx
	/* control: a select of a random key with READ, SKIP, WRITE, or random bits */
	and	$0x3f1f, %eax
	test	$0x20000000, %ebx
	jz	1f
	and	$0x00ff, %ax
1:	bswap	%eax
	mov	%eax, DESC
	call	rand
	mov	%eax, %ebx		/* EBX: random bits for the choices below */
	/* length: small, or huge */
	and	$0x0fff, %eax
	test	$0x1000, %bx
	jz	2f
	mov	$0xffffffff, %eax
	test	$0x2000, %bx
	jz	2f
	mov	$0x80000000, %eax
2:	mov	%eax, %ebp		/* keep the length for the target choice */
	bswap	%eax
	mov	%eax, DESC+4
	/* target: the scratch area (small lengths only), else outside RAM or across its end */
	call	rand
	mov	%eax, %edx
	cmp	$0x1000, %ebp
	jae	3f
	test	$0x30000, %ebx
	jz	3f
	and	$0xffff, %eax
	add	$0x10000, %eax
	jmp	5f
3:	test	$0x40000, %ebx
	jz	4f
	mov	$RAM_END - 8, %eax	/* across the end of RAM */
	jmp	5f
4:	or	$RAM_END, %eax		/* outside RAM (64 MiB and up, wrapping near 4 GiB) */
5:	bswap	%eax
	movl	$0, DESC+8		/* be64: high half first */
	mov	%eax, DESC+12
	test	$0x80000, %ebx
	jz	6f
	bswap	%edx			/* sometimes a random high half too */
	mov	%edx, DESC+8
6:	/* the address register: high half at 0x514, low half at 0x518 starts it (big-endian) */
	xor	%eax, %eax
	test	$0x100000, %ebx
	jz	7f
	mov	%edx, %eax		/* a random high half: the descriptor is outside RAM */
7:	mov	$0x514, %dx
	out	%eax, %dx
	mov	$DESC, %eax
	test	$0x200000, %ebx
	jz	8f
	mov	$RAM_END - 4, %eax	/* a descriptor across the end of RAM */
	test	$0x400000, %ebx
	jz	8f
	mov	$0xfffffff0, %eax
8:	bswap	%eax
	mov	$0x518, %dx
	out	%eax, %dx
	ret

ata_reg:				/* a byte register 1-7 of 0x1f0, or a read of the status */
	mov	%ax, %dx
	and	$0x07, %dx
	add	$0x1f0, %dx
	test	$0x80, %ah
	jz	1f
	cmp	$0x1f7, %dx		/* commands only through ata_cmd */
	je	1f
	out	%al, %dx
	ret
1:	in	%dx, %al
	ret
ata_cmd:				/* a command the model knows, or any byte */
	mov	%ax, %bx
	and	$0x0f, %bx
	mov	cmds(%bx), %al
	test	$0x100, %bx
	jz	1f
	mov	%ah, %al
1:	mov	$0x1f7, %dx
	out	%al, %dx
	ret
cmds:	.byte	0x20, 0x21, 0x24, 0x30, 0x31, 0x34, 0xec, 0xe7
	.byte	0xea, 0x91, 0x90, 0xef, 0xe5, 0x10, 0xa0, 0xff
ata_data:				/* a burst of data-port words (or dwords), in or out */
	mov	%al, %cl
	and	$0x7f, %cx
	inc	%cx
	mov	$0x1f0, %dx
	test	$0x100, %ax
	jz	2f
1:	out	%ax, %dx
	loop	1b
	ret
2:	test	$0x200, %ax
	jz	3f
	in	%dx, %eax
	loop	2b
	ret
3:	in	%dx, %ax
	loop	3b
	ret
ata_ctl:				/* device control: SRST, nIEN, HOB in any mix; or alt status */
	mov	$0x3f6, %dx
	test	$0x100, %ax
	jz	1f
	out	%al, %dx
	ret
1:	in	%dx, %al
	ret
port92:					/* A20 and the kept bits; never bit 0 (that would end the run) */
	and	$0xfe, %al
	out	%al, $0x92
	in	$0x92, %al
	ret

seed:	.long	0
msg_ok:	.asciz	"FWHOSTILE OK\r\n"
	.org	2048
