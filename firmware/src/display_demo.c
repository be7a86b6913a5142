/*
 * The display demo: finds QEMU's bochs-display on the virt board's PCIe bus
 * through ECAM, assigns its BARs, sets a 640x480x32 mode, writes a text
 * console in a built-in 5x7 font (drawn here, below) and animates a bouncing square for
 * FRAMES frames paced by the CLINT timer (one frame per 33 ms of guest
 * time), then moves the VRAM BAR and draws through its new address. It
 * says what it does on the UART and then idles for ever with the last
 * frame on screen (a VNC viewer keeps showing it).
 *
 *   ferrite run --device bochs-display --display vnc::5900 firmware/bin/display_demo.elf
 *   ferrite run --device bochs-display --display png:demo.png \
 *       --stop-on-output 'demo: done' firmware/bin/display_demo.elf
 */
#include "ferrite.h"
#include "devices.h"

PROGRAM("display_demo");

#define ECAM_BASE   0x30000000UL
#define MMIO_WINDOW 0x40000000UL
#define ECAM(devfn, reg) (ECAM_BASE + ((uint64_t)(devfn) << 12) + (reg))

#define WIDTH  640
#define HEIGHT 480
#define FRAMES 90
#define FRAME_TICKS 330000UL        /* 33 ms of the 10 MHz timebase */

/* DISPI registers, 16 bits each at 0x500 + 2 * index of the MMIO BAR. */
enum { VBE_ID, VBE_XRES, VBE_YRES, VBE_BPP, VBE_ENABLE, VBE_BANK, VBE_VIRT_WIDTH,
       VBE_VIRT_HEIGHT, VBE_X_OFFSET, VBE_Y_OFFSET, VBE_VIDEO_MEMORY_64K };

static volatile uint32_t *fb;
static uint64_t dispi;

static void vbe_write(int index, uint16_t v) { *(volatile uint16_t *)(dispi + 2 * index) = v; }
static uint16_t vbe_read(int index) { return *(volatile uint16_t *)(dispi + 2 * index); }

/*
 * The font: 5x7 glyphs drawn as text, 7 rows of 5 cells per character
 * ('#' lit). Lower-case letters print as capitals, except x; a character
 * the font lacks prints as a space.
 */
struct glyph { char c; const char *rows[7]; };
static const struct glyph font[] = {
    { ' ', { ".....", ".....", ".....", ".....", ".....", ".....", "....." } },
    { 'A', { ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#" } },
    { 'B', { "####.", "#...#", "#...#", "####.", "#...#", "#...#", "####." } },
    { 'C', { ".###.", "#...#", "#....", "#....", "#....", "#...#", ".###." } },
    { 'D', { "####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####." } },
    { 'E', { "#####", "#....", "#....", "####.", "#....", "#....", "#####" } },
    { 'F', { "#####", "#....", "#....", "####.", "#....", "#....", "#...." } },
    { 'G', { ".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####" } },
    { 'H', { "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#" } },
    { 'I', { ".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###." } },
    { 'J', { "..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.." } },
    { 'K', { "#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#" } },
    { 'L', { "#....", "#....", "#....", "#....", "#....", "#....", "#####" } },
    { 'M', { "#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#" } },
    { 'N', { "#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#" } },
    { 'O', { ".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###." } },
    { 'P', { "####.", "#...#", "#...#", "####.", "#....", "#....", "#...." } },
    { 'Q', { ".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#" } },
    { 'R', { "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#" } },
    { 'S', { ".####", "#....", "#....", ".###.", "....#", "....#", "####." } },
    { 'T', { "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.." } },
    { 'U', { "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###." } },
    { 'V', { "#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.." } },
    { 'W', { "#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#." } },
    { 'X', { "#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#" } },
    { 'Y', { "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.." } },
    { 'Z', { "#####", "....#", "...#.", "..#..", ".#...", "#....", "#####" } },
    { '0', { ".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###." } },
    { '1', { "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###." } },
    { '2', { ".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####" } },
    { '3', { "####.", "....#", "....#", ".###.", "....#", "....#", "####." } },
    { '4', { "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#." } },
    { '5', { "#####", "#....", "####.", "....#", "....#", "#...#", ".###." } },
    { '6', { "..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###." } },
    { '7', { "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..." } },
    { '8', { ".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###." } },
    { '9', { ".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.." } },
    { ':', { ".....", "..#..", "..#..", ".....", "..#..", "..#..", "....." } },
    { '.', { ".....", ".....", ".....", ".....", ".....", ".##..", ".##.." } },
    { ',', { ".....", ".....", ".....", ".....", ".##..", "..#..", ".#..." } },
    { '-', { ".....", ".....", ".....", "#####", ".....", ".....", "....." } },
    { '/', { "....#", "....#", "...#.", "..#..", ".#...", "#....", "#...." } },
    { '=', { ".....", ".....", "#####", ".....", "#####", ".....", "....." } },
    { '(', { "...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#." } },
    { ')', { ".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..." } },
    { '!', { "..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.." } },
    { 'x', { ".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#" } },
};
#define FONT_LEN (sizeof font / sizeof font[0])

#define SCALE 2
#define CELL_W (6 * SCALE)
#define CELL_H (9 * SCALE)

static void fill(int x, int y, int w, int h, uint32_t color)
{
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++)
            fb[j * WIDTH + i] = color;
}

static const struct glyph *glyph_of(char c)
{
    if (c >= 'a' && c <= 'z' && c != 'x')
        c -= 'a' - 'A';
    for (unsigned i = 0; i < FONT_LEN; i++)
        if (font[i].c == c)
            return &font[i];
    return &font[0];
}

static void draw_char(int x, int y, char c, uint32_t fg, uint32_t bg)
{
    const struct glyph *g = glyph_of(c);
    fill(x, y, CELL_W, CELL_H, bg);
    for (int row = 0; row < 7; row++)
        for (int col = 0; col < 5; col++)
            if (g->rows[row][col] == '#')
                fill(x + col * SCALE, y + SCALE + row * SCALE, SCALE, SCALE, fg);
}

/* The text console: a cursor over 53 columns and 26 rows of cells. */
static int cur_col, cur_row;
#define CONSOLE_X 8
#define CONSOLE_Y 8
#define BG 0x00102040u
#define FG 0x00e0e0e0u
#define ACCENT 0x00ffc040u

static void con_puts(const char *s, uint32_t fg)
{
    for (; *s; s++) {
        if (*s == '\n') {
            cur_col = 0;
            cur_row++;
            continue;
        }
        draw_char(CONSOLE_X + cur_col * CELL_W, CONSOLE_Y + cur_row * CELL_H, *s, fg, BG);
        cur_col++;
    }
}

static void con_hex(uint64_t v, int digits, uint32_t fg)
{
    char buf[17];
    for (int i = 0; i < digits; i++)
        buf[i] = "0123456789ABCDEF"[(v >> (4 * (digits - 1 - i))) & 0xf];
    buf[digits] = 0;
    con_puts(buf, fg);
}

static void con_dec(uint64_t v, uint32_t fg)
{
    char buf[21];
    int n = 0;
    do {
        buf[n++] = '0' + v % 10;
        v /= 10;
    } while (v);
    char out[21];
    for (int i = 0; i < n; i++)
        out[i] = buf[n - 1 - i];
    out[n] = 0;
    con_puts(out, fg);
}

/* Size of BAR `bar` of `devfn` (0 if it is not implemented), the BAR left as it was. */
static uint64_t bar_size(int devfn, int bar)
{
    uint64_t reg = ECAM(devfn, 0x10 + 4 * bar);
    uint32_t old = MMIO32(reg);
    MMIO32(reg) = 0xffffffff;
    uint32_t probe = MMIO32(reg);
    MMIO32(reg) = old;
    if (probe == 0)
        return 0;
    return (uint32_t)(~(probe & ~0xfu) + 1);
}

/* Frame pacing: sleep until mtime reaches `until`. */
static void sleep_until(uint64_t until)
{
    MMIO64(CLINT_MTIMECMP(0)) = until;
    while (mtime() < until)
        __asm__ volatile("wfi" ::: "memory");
    MMIO64(CLINT_MTIMECMP(0)) = ~0UL;
}

int main(void)
{
    require_virt();
    csr_set(mie, MIP_MTIP);         /* wfi wakes on the timer; mstatus.MIE stays off */
    puts_("demo: scanning PCI bus 0");
    int display = -1;
    for (int dev = 0; dev < 32; dev++) {
        uint32_t id = MMIO32(ECAM(dev << 3, 0));
        if (id == 0xffffffff)
            continue;
        uint32_t class = MMIO32(ECAM(dev << 3, 8)) >> 8;
        printf_("demo: pci 00:%02x.0 %04x:%04x class %06x\n", dev, id & 0xffff, id >> 16, class);
        if (id == 0x11111234)
            display = dev << 3;
    }
    if (display < 0) {
        puts_("demo: no bochs-display (run with --device bochs-display)");
        exit(1);
    }
    /* Assign the BARs from the bottom of the 32-bit window, each aligned to its size. */
    uint64_t vram_size = bar_size(display, 0), mmio_size = bar_size(display, 2);
    uint64_t vram = MMIO_WINDOW;
    uint64_t mmio = (vram + vram_size + mmio_size - 1) & ~(mmio_size - 1);
    MMIO32(ECAM(display, 0x10)) = (uint32_t)vram;
    MMIO32(ECAM(display, 0x18)) = (uint32_t)mmio;
    MMIO32(ECAM(display, 0x04)) |= 0x2;             /* memory decoding on */
    printf_("demo: BAR0 vram %lx (%lu KiB), BAR2 mmio %lx (%lu bytes)\n", vram, vram_size >> 10,
            mmio, mmio_size);
    fb = (volatile uint32_t *)vram;
    dispi = mmio + 0x500;
    uint16_t id = vbe_read(VBE_ID);
    printf_("demo: dispi id %x, %u KiB of video memory\n", id, vbe_read(VBE_VIDEO_MEMORY_64K) * 64);
    if (id != 0xb0c5) {
        puts_("demo: the DISPI interface does not answer");
        exit(2);
    }
    vbe_write(VBE_ENABLE, 0);
    vbe_write(VBE_XRES, WIDTH);
    vbe_write(VBE_YRES, HEIGHT);
    vbe_write(VBE_BPP, 32);
    vbe_write(VBE_VIRT_WIDTH, WIDTH);
    vbe_write(VBE_X_OFFSET, 0);
    vbe_write(VBE_Y_OFFSET, 0);
    vbe_write(VBE_ENABLE, 0x41);                    /* enabled, linear framebuffer */
    printf_("demo: mode %ux%ux%u\n", vbe_read(VBE_XRES), vbe_read(VBE_YRES), vbe_read(VBE_BPP));

    fill(0, 0, WIDTH, HEIGHT, BG);
    con_puts("FERRITE BOCHS-DISPLAY DEMO\n\n", ACCENT);
    con_puts("PCI 00:", FG);
    con_hex(display >> 3, 2, FG);
    con_puts(".0 1234:1111\nVRAM ", FG);
    con_hex(vram, 8, FG);
    con_puts(" (", FG);
    con_dec(vram_size >> 20, FG);
    con_puts(" MIB)\nMMIO ", FG);
    con_hex(mmio, 8, FG);
    con_puts("\nMODE 640x480x32\n\nFRAME ", FG);
    int frame_col = cur_col, frame_row = cur_row;
    puts_("demo: console drawn");

    /* The animation: a square bouncing in the lower part of the screen. */
    const int box = 40, top = 260, bottom = HEIGHT - 8;
    int x = 20, y = top, dx = 7, dy = 5;
    uint64_t next = mtime();
    for (int frame = 1; frame <= FRAMES; frame++) {
        fill(x, y, box, box, BG);
        x += dx;
        y += dy;
        if (x < 8 || x + box > WIDTH - 8) { dx = -dx; x += 2 * dx; }
        if (y < top || y + box > bottom) { dy = -dy; y += 2 * dy; }
        fill(x, y, box, box, 0x0040c0ffu + (uint32_t)(frame * 0x020000));
        cur_col = frame_col;
        cur_row = frame_row;
        con_dec(frame, ACCENT);
        if (frame % 30 == 0)
            printf_("demo: frame %d\n", frame);
        next += FRAME_TICKS;
        sleep_until(next);
    }
    /* Move the VRAM BAR up the window: the picture stays, the old address
       stops decoding, and drawing goes on through the new one. */
    uint64_t moved = vram + 2 * vram_size;
    MMIO32(ECAM(display, 0x10)) = (uint32_t)moved;
    if (MMIO32(vram) != 0xffffffff) {
        puts_("demo: the old VRAM address still decodes");
        exit(3);
    }
    fb = (volatile uint32_t *)moved;
    cur_col = 0;
    cur_row = frame_row + 2;
    con_puts("VRAM MOVED TO ", FG);
    con_hex(moved, 8, ACCENT);
    printf_("demo: moved vram to %lx\n", moved);
    printf_("demo: done after %d frames\n", FRAMES);
    /* Keep the last frame on screen; nothing will wake the hart. */
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
}
