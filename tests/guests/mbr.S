/* A boot sector the way hobby-OS books write them: loaded by the BIOS at 0:7C00 in real mode with the
 * boot drive in DL. It prints through int 10h teletype, writes VGA text memory and reads it back,
 * reads its second sector with int 13h AH=42h (extended read, LBA 1; AH=02h from a floppy) and
 * prints the string stored there, then writes the test-exit port (0x501). Its first I/O writes the
 * boot-timer byte (123 to port 0x504), the marker bench/firmware.sh times. The Makefile pads the
 * image to 1 MiB (SeaBIOS refuses a disk smaller than one cylinder of 16 heads x 63 sectors) and
 * makes a 1.44 MB floppy image of it (--floppy). */
	.code16
	.text
	.globl	_start
_start:
	mov	%dx, %bp		/* DL: the boot drive, kept while DX addresses the port */
	mov	$123, %al		/* boot timer: "the first MBR instruction ran" */
	mov	$0x504, %dx
	out	%al, %dx
	mov	%bp, %dx
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7c00, %sp
	ljmp	$0, $start2		/* CS:IP may be 07C0:0000 on some BIOSes */
start2:
	sti
	cld
	mov	%dl, drive
	mov	$msg_hello, %si
	call	puts

	/* VGA text memory: "VGA" in white on blue at the top left, then read back */
	mov	$0xb800, %ax
	mov	%ax, %es
	movw	$0x1f56, %es:0
	movw	$0x1f47, %es:2
	movw	$0x1f41, %es:4
	cmpw	$0x1f47, %es:2
	jne	fail
	xor	%ax, %ax
	mov	%ax, %es
	mov	$msg_vga, %si
	call	puts

	/* int 13h AH=42h: 1 sector from LBA 1 to 0000:7E00; a floppy (DL < 0x80) has no extended
	 * functions, so there AH=02h: cylinder 0, head 0, sector 2 */
	mov	drive, %dl
	test	$0x80, %dl
	jz	floppy
	mov	$0x42, %ah
	mov	$dap, %si
	int	$0x13
	jc	fail
	jmp	read_done
floppy:
	mov	$0x0201, %ax
	mov	$0x7e00, %bx
	mov	$0x0002, %cx
	xor	%dh, %dh
	int	$0x13
	jc	fail
read_done:
	cmpw	$0x4553, 0x7e00		/* "SE" */
	jne	fail
	mov	$0x7e00, %si
	call	puts

	/* SeaBIOS's serial console holds the last character back until the next output or timer tick:
	 * let two ticks (IRQ 0, ~55 ms each) pass so all of it is out before the VM ends. */
	mov	$3, %cx
1:	hlt
	loop	1b
	mov	$0x21, %al		/* exit status (0x21 << 1) | 1 = 67 */
	jmp	done
fail:
	xor	%ax, %ax
	mov	%ax, %es
	mov	$msg_fail, %si
	call	puts
	mov	$3, %cx
1:	hlt
	loop	1b
	mov	$0x10, %al		/* exit status 33 */
done:
	mov	$0x501, %dx
	out	%al, %dx
	cli
2:	hlt
	jmp	2b

/* Print the NUL-terminated string at DS:SI through int 10h AH=0Eh (teletype). */
puts:
	lodsb
	test	%al, %al
	jz	1f
	mov	$0x0e, %ah
	mov	$0x0007, %bx
	int	$0x10
	jmp	puts
1:	ret

drive:	.byte	0x80
	.balign	4
dap:	.byte	16, 0			/* size, reserved */
	.word	1			/* sectors */
	.word	0x7e00, 0		/* buffer offset, segment */
	.quad	1			/* LBA */
msg_hello:	.asciz	"MBR OK\r\n"
msg_vga:	.asciz	"VGA OK\r\n"
msg_fail:	.asciz	"MBR FAIL\r\n"

	.org	446
	/* partition 1: bootable, type 0xda (non-FS data), LBA 1, 63 sectors: a table tools accept */
	.byte	0x80, 0, 2, 0, 0xda, 0, 0, 0
	.long	1, 63
	.org	510
	.word	0xaa55

/* Sector 2 (LBA 1): what the int 13h read must bring back. */
	.asciz	"SECTOR2 OK\r\n"
	.org	1024
