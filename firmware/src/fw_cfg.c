/* fw_cfg: reads QEMU's firmware configuration device on the virt board the
   way firmware does, through the data register and through DMA, and prints
   everything it finds, so the output can be compared with QEMU's
   (tests/tests/fw_cfg.rs compares it with a capture from QEMU 7.2). */
#include "devices.h"

PROGRAM("fw_cfg");

#define FW_CFG_BASE 0x10100000UL
#define FW_DATA     (FW_CFG_BASE + 0)
#define FW_CTL      (FW_CFG_BASE + 8)
#define FW_DMA      (FW_CFG_BASE + 16)

#define DMA_ERROR  0x01
#define DMA_READ   0x02
#define DMA_SKIP   0x04
#define DMA_SELECT 0x08
#define DMA_WRITE  0x10

static uint16_t be16(uint16_t v) { return __builtin_bswap16(v); }
static uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }
static uint64_t be64(uint64_t v) { return __builtin_bswap64(v); }

static void select_key(uint16_t key) { *(volatile uint16_t *)FW_CTL = be16(key); }
static uint8_t read8(void) { return MMIO8(FW_DATA); }

struct dma_access { uint32_t control, length; uint64_t address; };
static volatile struct dma_access req __attribute__((aligned(16)));

/* One DMA request; returns its final control word. */
static uint32_t dma(uint32_t control, void *buf, uint32_t len)
{
    req.control = be32(control);
    req.length = be32(len);
    req.address = be64((uint64_t)(uintptr_t)buf);
    __asm__ volatile("fence rw, rw" ::: "memory");
    uint64_t a = (uint64_t)(uintptr_t)&req;
    MMIO32(FW_DMA) = be32((uint32_t)(a >> 32));
    MMIO32(FW_DMA + 4) = be32((uint32_t)a);
    uint32_t c;
    while ((c = be32(req.control)) & ~DMA_ERROR)
        ;
    return c;
}

static uint64_t read_le(uint16_t key, int n)
{
    select_key(key);
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)read8() << (8 * i);
    return v;
}

struct file { uint32_t size; uint16_t select, reserved; char name[56]; };
static struct file files[32];
static uint8_t contents[64];

int main(void)
{
    require_virt();
    select_key(0);
    char sig[5] = { read8(), read8(), read8(), read8(), 0 };
    printf_("signature %s\n", sig);
    uint64_t dma_sig = MMIO64(FW_DMA);
    printf_("dma register %lx\n", be64(dma_sig));
    printf_("id %lx\n", read_le(0x01, 4));
    printf_("nographic %lu\n", read_le(0x04, 2));
    printf_("nb_cpus %lu\n", read_le(0x05, 2));
    printf_("boot_menu %lu\n", read_le(0x0e, 2));
    select_key(0x02);
    print_str("uuid ");
    for (int i = 0; i < 16; i++)
        printf_("%02x", read8());
    putchar_('\n');
    /* Items that do not exist read as zero, as do bytes past an item's end. */
    printf_("key 0x03 (ram_size) %lx\n", read_le(0x03, 8));
    printf_("key 0x3fff %lx\n", read_le(0x3fff, 8));
    read_le(0x05, 2);
    printf_("past nb_cpus %x\n", read8());

    /* The directory over the data register, 8 bytes at a time. */
    select_key(0x19);
    uint32_t count = 0;
    for (int i = 0; i < 4; i++)
        count = count << 8 | read8();
    printf_("files %u\n", count);
    CHECK(count <= 32, "directory fits");
    uint8_t *raw = (uint8_t *)files;
    for (uint32_t i = 0; i < count * sizeof(struct file); i += 8) {
        uint64_t v = *(volatile uint64_t *)FW_DATA;
        memcpy(raw + i, &v, 8);
    }
    for (uint32_t i = 0; i < count; i++) {
        struct file *f = &files[i];
        printf_("file %s size %u select %x", f->name, be32(f->size), be16(f->select));
        uint32_t size = be32(f->size);
        uint32_t n = size < sizeof contents ? size : sizeof contents;
        memset(contents, 0xee, sizeof contents);
        uint32_t c = dma(DMA_SELECT | DMA_READ | (uint32_t)be16(f->select) << 16, contents, n);
        printf_(" dma %x:", c);
        for (uint32_t j = 0; j < n; j++)
            printf_(" %02x", contents[j]);
        putchar_('\n');
    }

    /* DMA: the directory's count, a skip, a read past the end (zeros), a
       refused write, and a request the device cannot finish. */
    uint32_t be_count = 0;
    CHECK_EQ(dma(DMA_SELECT | DMA_READ | 0x19u << 16, &be_count, 4), 0, "DMA read of the count");
    CHECK_EQ(be32(be_count), count, "  the same count");
    select_key(0x05);
    CHECK_EQ(dma(DMA_SKIP, 0, 1), 0, "DMA skip");
    CHECK_EQ(read8(), 0, "  the data register goes on after the skipped byte (the count's high byte)");
    memset(contents, 0x55, 8);
    CHECK_EQ(dma(DMA_SELECT | DMA_READ | 0x05u << 16, contents, 8), 0, "DMA read past the end");
    printf_("nb_cpus by dma: %02x %02x %02x %02x\n", contents[0], contents[1], contents[2], contents[3]);
    CHECK_EQ(dma(DMA_SELECT | DMA_WRITE | 0x05u << 16, contents, 2), DMA_ERROR, "DMA write refused");
    CHECK_EQ(dma(0, contents, 8), 0, "a request with no operation does nothing");
    PASS();
}
