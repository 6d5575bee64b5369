/* One hexadecimal digit's value, either case: 0-15, or -1 for anything else (untrusted text:
 * a MAC address on the command line, a GDB packet). */
#ifndef CKVM_HEXDIGIT_H
#define CKVM_HEXDIGIT_H

static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
