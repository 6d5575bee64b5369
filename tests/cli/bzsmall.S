/* bzsmall: the smallest bzImage ckvm loads (boot protocol 2.15, 64-bit entry), with cmdline_size 40:
 * too small for ckvm's software-KVM work-arounds appended to a short command line. Prints the
 * command line it was given ("cmdline: TEXT") and exits through the test-exit port with 0x11
 * (status 35). Field offsets: Documentation/x86/boot.rst, "The Real-Mode Kernel Header". Turned into
 * a flat file by objcopy; nothing in it depends on where it is loaded. */
#include "guest.h"

#define SETUP_SECTS	1			/* setup = (1 + 1) * 512 bytes before the payload */
#define CMDLINE_SIZE	40
#define BP_CMD_LINE_PTR	0x228			/* in the zero page (struct boot_params) */

	.text
	.globl	_start
_start:
	.org	0x1f1
	.byte	SETUP_SECTS			/* setup_sects */
	.word	0				/* root_flags */
	.long	(payload_end - payload) / 16	/* syssize */
	.word	0, 0, 0				/* ram_size, vid_mode, root_dev */
	.word	0xaa55				/* boot_flag */
	.byte	0xeb, hdr_end - _start - 0x202	/* jump over the header */
	.ascii	"HdrS"
	.word	0x020f				/* version */
	.long	0				/* realmode_swtch */
	.word	0, 0				/* start_sys_seg, kernel_version */
	.byte	0, 1				/* type_of_loader, loadflags: LOADED_HIGH */
	.word	0				/* setup_move_size */
	.long	0x100000			/* code32_start */
	.long	0, 0, 0				/* ramdisk_image, ramdisk_size, bootsect_kludge */
	.word	0				/* heap_end_ptr */
	.byte	0, 0				/* ext_loader_ver, ext_loader_type */
	.long	0				/* cmd_line_ptr */
	.long	0x7fffffff			/* initrd_addr_max */
	.long	0x200000			/* kernel_alignment */
	.byte	0, 0				/* relocatable_kernel, min_alignment */
	.word	1				/* xloadflags: XLF_KERNEL_64 */
	.long	CMDLINE_SIZE			/* cmdline_size */
	.long	0				/* hardware_subarch */
	.quad	0				/* hardware_subarch_data */
	.long	0, 0				/* payload_offset, payload_length */
	.quad	0, 0				/* setup_data, pref_address */
	.long	0x1000				/* init_size */
	.long	0, 0				/* handover_offset, kernel_info_offset */
hdr_end:
	.org	(SETUP_SECTS + 1) * 512

/* The protected-mode part, loaded at 1 MiB; the 64-bit entry is 0x200 bytes in. RSI: zero page. */
payload:
	.org	payload + 0x200
	.code64
	mov	BP_CMD_LINE_PTR(%rsi), %r8d
	.irp	c, 'c', 'm', 'd', 'l', 'i', 'n', 'e', ':', ' '
	mov	$\c, %bl
	COM1_PUTC_BL
	.endr
1:	movb	(%r8), %bl
	test	%bl, %bl
	jz	2f
	COM1_PUTC_BL
	inc	%r8
	jmp	1b
2:	mov	$'\n', %bl
	COM1_PUTC_BL
	TEST_EXIT 0x11
	.balign	16
payload_end:
