/* Unit tests for the VGA text screen dump (src/osdev/screen.c): the CP437 table, UTF-8 encoding,
 * trailing blanks, attributes ignored, short buffers and output sizes. */
#include <errno.h>
#include <stdlib.h>

#include "osdev/screen.h"
#include "test.h"

static uint8_t vga[SCREEN_BYTES];
static char text[SCREEN_TEXT_MAX];

static void clear(uint8_t fill)
{
	for (size_t i = 0; i < SCREEN_BYTES; i += 2) {
		vga[i] = fill;
		vga[i + 1] = 0x07;	/* light grey on black, as the BIOS leaves it */
	}
}

static void put(unsigned row, unsigned col, const char *s, uint8_t attr)
{
	for (; *s; s++, col++) {
		vga[(row * SCREEN_COLS + col) * 2] = (uint8_t)*s;
		vga[(row * SCREEN_COLS + col) * 2 + 1] = attr;
	}
}

static void test_table(void)
{
	/* Spot checks against the code page's published chart. */
	CHECK_EQ(screen_cp437(0x00), 0x20);
	CHECK_EQ(screen_cp437(0x01), 0x263a);	/* ☺ */
	CHECK_EQ(screen_cp437(0x03), 0x2665);	/* ♥ */
	CHECK_EQ(screen_cp437(0x0a), 0x25d9);	/* ◙ */
	CHECK_EQ(screen_cp437(0x1b), 0x2190);	/* ← */
	CHECK_EQ(screen_cp437(0x1f), 0x25bc);	/* ▼ */
	CHECK_EQ(screen_cp437('A'), 'A');
	CHECK_EQ(screen_cp437('~'), '~');
	CHECK_EQ(screen_cp437(0x7f), 0x2302);	/* ⌂ */
	CHECK_EQ(screen_cp437(0x80), 0x00c7);	/* Ç */
	CHECK_EQ(screen_cp437(0x9e), 0x20a7);	/* ₧ */
	CHECK_EQ(screen_cp437(0xb0), 0x2591);	/* ░ */
	CHECK_EQ(screen_cp437(0xc9), 0x2554);	/* ╔ */
	CHECK_EQ(screen_cp437(0xdb), 0x2588);	/* █ */
	CHECK_EQ(screen_cp437(0xe1), 0x00df);	/* ß (also used as β) */
	CHECK_EQ(screen_cp437(0xe6), 0x00b5);	/* µ */
	CHECK_EQ(screen_cp437(0xfe), 0x25a0);	/* ■ */
	CHECK_EQ(screen_cp437(0xff), 0x00a0);	/* no-break space */

	/* Every byte has a glyph: no C0/C1 control, no surrogate, and only 0x00 and 0x20 share one. */
	int dup = 0, ctrl = 0;
	for (unsigned a = 0; a < 256; a++) {
		uint32_t cp = screen_cp437((uint8_t)a);

		ctrl += cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0xffff;
		for (unsigned b = a + 1; b < 256; b++)
			dup += cp == screen_cp437((uint8_t)b);
	}
	CHECK_EQ(ctrl, 0);
	CHECK_EQ(dup, 1);
}

static void test_hello(void)
{
	size_t n = 0;

	clear(' ');
	put(0, 0, "MBR OK", 0x1f);
	put(1, 2, "indented   ", 0x4e);	/* trailing spaces go */
	put(24, 79, "X", 0x07);		/* last cell of the last row */
	CHECK_EQ(screen_to_utf8(vga, sizeof(vga), text, sizeof(text), &n), 0);
	char want[256];
	snprintf(want, sizeof(want), "MBR OK\n  indented\n%.22s%*sX\n",
		 "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", 79, "");
	CHECK_STR(text, want);
	CHECK_EQ(n, strlen(want));
}

/* Zeroed memory (nothing written) reads as 25 empty lines. */
static void test_blank(void)
{
	size_t n = 1;

	memset(vga, 0, sizeof(vga));
	CHECK_EQ(screen_to_utf8(vga, sizeof(vga), text, sizeof(text), &n), 0);
	CHECK_EQ(n, 25);
	for (int i = 0; i < 25; i++)
		CHECK_EQ(text[i], '\n');
	CHECK_EQ(text[25], '\0');
}

static void test_graphics(void)
{
	static const uint8_t row[] = { 0xc9, 0xcd, 0xbb, 0x01, 0x7f, 0x82, 0x00, 0xff };

	clear(0);
	for (size_t i = 0; i < sizeof(row); i++)
		vga[i * 2] = row[i];
	CHECK_EQ(screen_to_utf8(vga, sizeof(vga), text, sizeof(text), NULL), 0);
	/* ╔═╗☺⌂é, a blank cell, then the no-break space (kept: it is not a space) */
	CHECK(!strncmp(text, "\u2554\u2550\u2557\u263a\u2302\u00e9 \u00a0\n", strlen("\u2554\u2550\u2557\u263a\u2302\u00e9 \u00a0\n")));
}

/* The worst case: every cell a 3-byte glyph, exactly SCREEN_TEXT_MAX with the NUL. */
static void test_sizes(void)
{
	size_t n = 0;

	clear(0xdb);
	CHECK_EQ(screen_to_utf8(vga, sizeof(vga), text, sizeof(text), &n), 0);
	CHECK_EQ(n + 1, SCREEN_TEXT_MAX);
	CHECK_EQ(screen_to_utf8(vga, sizeof(vga), text, sizeof(text) - 1, &n), -ENOSPC);
	CHECK_EQ(screen_to_utf8(vga, sizeof(vga), text, 0, &n), -ENOSPC);
	CHECK_EQ(screen_to_utf8(vga, SCREEN_BYTES - 1, text, sizeof(text), &n), -EINVAL);
	CHECK_EQ(screen_to_utf8(NULL, SCREEN_BYTES, text, sizeof(text), &n), -EINVAL);

	/* A buffer larger than the screen (e.g. the whole 32 KiB window): only 4000 bytes used. */
	uint8_t *big = calloc(1, 32768);
	memset(big + SCREEN_BYTES, 'Q', 32768 - SCREEN_BYTES);
	CHECK_EQ(screen_to_utf8(big, 32768, text, sizeof(text), &n), 0);
	CHECK_EQ(n, 25);
	free(big);

	/* Exactly enough room for "A\n" x 25 + NUL. */
	clear(' ');
	for (unsigned r = 0; r < SCREEN_ROWS; r++)
		put(r, 0, "A", 7);
	char small[51];
	CHECK_EQ(screen_to_utf8(vga, sizeof(vga), small, sizeof(small), &n), 0);
	CHECK_EQ(n, 50);
	CHECK_EQ(screen_to_utf8(vga, sizeof(vga), small, sizeof(small) - 1, &n), -ENOSPC);
}

int main(void)
{
	RUN(test_table);
	RUN(test_hello);
	RUN(test_blank);
	RUN(test_graphics);
	RUN(test_sizes);
	return test_summary();
}
