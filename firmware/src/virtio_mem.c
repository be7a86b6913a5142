/* virtio-mem: a driver over the virtio-mmio transport that plugs, unplugs and
   asks the state of blocks, checks that plugged memory reads and writes and
   that unplugged memory is refused (an access fault: its memslot is not
   mapped), then follows a size change the host asks for.
   Run with: --maxmem 4224M --virtio-mem size=4G,requested-size=16M
   (tests/tests/virtio_mem.rs asks for 1088 MiB while it waits). */
#include "devices.h"

PROGRAM("virtio_mem");

#define VIRTIO_BASE   0x10001000UL
#define VIRTIO_STRIDE 0x1000UL
#define VIRTIO_SLOTS  8

/* virtio-mmio version 2 registers */
#define R_MAGIC          0x000
#define R_VERSION        0x004
#define R_DEVICE_ID      0x008
#define R_DEV_FEATURES   0x010
#define R_DEV_FEAT_SEL   0x014
#define R_DRV_FEATURES   0x020
#define R_DRV_FEAT_SEL   0x024
#define R_QUEUE_SEL      0x030
#define R_QUEUE_NUM_MAX  0x034
#define R_QUEUE_NUM      0x038
#define R_QUEUE_READY    0x044
#define R_QUEUE_NOTIFY   0x050
#define R_INT_STATUS     0x060
#define R_INT_ACK        0x064
#define R_STATUS         0x070
#define R_DESC_LO        0x080
#define R_DESC_HI        0x084
#define R_DRIVER_LO      0x090
#define R_DRIVER_HI      0x094
#define R_DEVICE_LO      0x0a0
#define R_DEVICE_HI      0x0a4
#define R_CONFIG_GEN     0x0fc
#define R_CONFIG         0x100

#define ST_ACK 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8

/* virtio_mem_config */
#define C_BLOCK_SIZE     0
#define C_ADDR           16
#define C_REGION_SIZE    24
#define C_USABLE_SIZE    32
#define C_PLUGGED_SIZE   40
#define C_REQUESTED_SIZE 48

enum { REQ_PLUG = 0, REQ_UNPLUG = 1, REQ_UNPLUG_ALL = 2, REQ_STATE = 3 };
enum { RESP_ACK = 0, RESP_NACK = 1, RESP_BUSY = 2, RESP_ERROR = 3 };
enum { STATE_PLUGGED = 0, STATE_UNPLUGGED = 1, STATE_MIXED = 2 };

#define QSIZE 8
struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used_elem { uint32_t id, len; };
struct used { uint16_t flags, idx; struct used_elem ring[QSIZE]; uint16_t avail_event; };
struct req { uint16_t type, pad[3]; uint64_t addr; uint16_t nb_blocks, pad2[3]; };
struct resp { uint16_t type, pad[3]; uint16_t state; };

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static struct used used __attribute__((aligned(4096)));
static struct req request;
static struct resp response;
static uint16_t sent;
static uint64_t dev;

static uint32_t reg(uint64_t off) { return MMIO32(dev + off); }
static void set_reg(uint64_t off, uint32_t v) { MMIO32(dev + off) = v; }
static uint64_t config64(uint64_t off)
{
    /* Read until the generation is stable, as the specification asks. */
    uint32_t gen;
    uint64_t v;
    do {
        gen = reg(R_CONFIG_GEN);
        v = (uint64_t)reg(R_CONFIG + off) | (uint64_t)reg(R_CONFIG + off + 4) << 32;
    } while (gen != reg(R_CONFIG_GEN));
    return v;
}

static int find_device(void)
{
    for (int i = 0; i < VIRTIO_SLOTS; i++) {
        uint64_t base = VIRTIO_BASE + i * VIRTIO_STRIDE;
        if (MMIO32(base + R_MAGIC) == 0x74726976 && MMIO32(base + R_VERSION) == 2 &&
            MMIO32(base + R_DEVICE_ID) == 24) {
            dev = base;
            return i;
        }
    }
    return -1;
}

/* Sends one request and waits for its response; returns the response type. */
static uint16_t send(uint16_t type, uint64_t addr, uint16_t blocks, uint16_t *state)
{
    request = (struct req){ .type = type, .addr = addr, .nb_blocks = blocks };
    response.type = 0xffff;
    descs[0] = (struct desc){ (uint64_t)(uintptr_t)&request, sizeof request, 1, 1 };
    descs[1] = (struct desc){ (uint64_t)(uintptr_t)&response, 10, 2, 0 };
    avail.ring[sent % QSIZE] = 0;
    __asm__ volatile("fence rw, rw" ::: "memory");
    avail.idx = ++sent;
    __asm__ volatile("fence rw, rw" ::: "memory");
    set_reg(R_QUEUE_NOTIFY, 0);
    while (*(volatile uint16_t *)&used.idx != sent)
        ;
    __asm__ volatile("fence rw, rw" ::: "memory");
    set_reg(R_INT_ACK, reg(R_INT_STATUS) & 1);
    if (state)
        *state = response.state;
    return response.type;
}

/* Whether a load from `addr` faults, and with what cause. */
static int load_faults(uint64_t addr)
{
    trap_arm();
    (void)*(volatile uint64_t *)(uintptr_t)addr;
    uint64_t n = m_trap_rec[0].count;
    uint64_t cause = m_trap_rec[0].cause;
    trap_disarm();
    return n == 1 && cause == CAUSE_LOAD_ACCESS;
}

static int store_faults(uint64_t addr)
{
    trap_arm();
    *(volatile uint64_t *)(uintptr_t)addr = 1;
    uint64_t n = m_trap_rec[0].count;
    uint64_t cause = m_trap_rec[0].cause;
    trap_disarm();
    return n == 1 && cause == CAUSE_STORE_ACCESS;
}

/* Writes a pattern over [addr, addr + len) in 64 KiB steps, then checks it. */
static int pattern_holds(uint64_t addr, uint64_t len, uint64_t seed)
{
    for (uint64_t off = 0; off < len; off += 0x10000)
        MMIO64(addr + off) = seed ^ off;
    for (uint64_t off = 0; off < len; off += 0x10000)
        if (MMIO64(addr + off) != (seed ^ off))
            return 0;
    return 1;
}

int main(void)
{
    require_virt();
    int slot = find_device();
    if (slot < 0) {
        puts_("SKIP: no virtio-mem device (run with --maxmem and --virtio-mem)");
        exit(0);
    }
    printf_("virtio-mem in slot %d at %lx\n", slot, dev);

    section("negotiation");
    set_reg(R_STATUS, 0);
    set_reg(R_STATUS, ST_ACK | ST_DRIVER);
    set_reg(R_DEV_FEAT_SEL, 0);
    uint32_t features = reg(R_DEV_FEATURES);
    CHECK(features & 2, "device offers UNPLUGGED_INACCESSIBLE");
    set_reg(R_DRV_FEAT_SEL, 0);
    set_reg(R_DRV_FEATURES, 0);
    set_reg(R_DRV_FEAT_SEL, 1);
    set_reg(R_DRV_FEATURES, 1);
    set_reg(R_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
    CHECK(!(reg(R_STATUS) & ST_FEATURES_OK), "a driver without UNPLUGGED_INACCESSIBLE is refused");
    set_reg(R_STATUS, 0);
    set_reg(R_STATUS, ST_ACK | ST_DRIVER);
    set_reg(R_DRV_FEAT_SEL, 0);
    set_reg(R_DRV_FEATURES, 2);
    set_reg(R_DRV_FEAT_SEL, 1);
    set_reg(R_DRV_FEATURES, 1);
    set_reg(R_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
    CHECK(reg(R_STATUS) & ST_FEATURES_OK, "FEATURES_OK with UNPLUGGED_INACCESSIBLE");
    set_reg(R_QUEUE_SEL, 0);
    CHECK(reg(R_QUEUE_NUM_MAX) >= QSIZE, "queue size");
    set_reg(R_QUEUE_NUM, QSIZE);
    set_reg(R_DESC_LO, (uint32_t)(uintptr_t)descs);
    set_reg(R_DESC_HI, 0);
    set_reg(R_DRIVER_LO, (uint32_t)(uintptr_t)&avail);
    set_reg(R_DRIVER_HI, 0);
    set_reg(R_DEVICE_LO, (uint32_t)(uintptr_t)&used);
    set_reg(R_DEVICE_HI, 0);
    set_reg(R_QUEUE_READY, 1);
    set_reg(R_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);

    uint64_t bs = config64(C_BLOCK_SIZE);
    uint64_t a = config64(C_ADDR);
    uint64_t region = config64(C_REGION_SIZE);
    uint64_t requested = config64(C_REQUESTED_SIZE);
    printf_("block %lx, addr %lx, region %lx, usable %lx, requested %lx\n", bs, a, region,
            config64(C_USABLE_SIZE), requested);
    CHECK_EQ(bs, 2UL << 20, "block size 2 MiB");
    CHECK_EQ(a % bs, 0, "address aligned to the block size");
    CHECK_EQ(region, 4UL << 30, "region 4 GiB");
    CHECK_EQ(requested, 16UL << 20, "16 MiB requested");
    CHECK_EQ(config64(C_PLUGGED_SIZE), 0, "nothing plugged");

    section("unplugged memory is refused");
    CHECK(load_faults(a), "load from the unplugged region: access fault");
    CHECK(store_faults(a + bs), "store to the unplugged region: access fault");
    uint16_t st = 0xffff;
    CHECK_EQ(send(REQ_STATE, a, 8, &st), RESP_ACK, "STATE answered");
    CHECK_EQ(st, STATE_UNPLUGGED, "  unplugged");

    section("plug");
    CHECK_EQ(send(REQ_PLUG, a, 4, 0), RESP_ACK, "PLUG 4 blocks");
    CHECK_EQ(config64(C_PLUGGED_SIZE), 4 * bs, "plugged_size 8 MiB");
    CHECK(pattern_holds(a, 4 * bs, 0x5a5a0000), "plugged memory reads back what was written");
    CHECK(!load_faults(a + 3 * bs), "plugged memory loads without a fault");
    CHECK_EQ(send(REQ_STATE, a, 4, &st), RESP_ACK, "STATE of the plugged blocks");
    CHECK_EQ(st, STATE_PLUGGED, "  plugged");
    CHECK_EQ(send(REQ_STATE, a, 5, &st), RESP_ACK, "STATE of one more");
    CHECK_EQ(st, STATE_MIXED, "  mixed");
    CHECK_EQ(send(REQ_PLUG, a, 1, 0), RESP_ERROR, "PLUG of a plugged block: ERROR");
    CHECK_EQ(send(REQ_PLUG, a + 4 * bs + 4096, 1, 0), RESP_ERROR, "unaligned PLUG: ERROR");
    CHECK_EQ(send(REQ_PLUG, a + region, 1, 0), RESP_ERROR, "PLUG past the region: ERROR");
    CHECK_EQ(send(REQ_PLUG, a + 4 * bs, 5, 0), RESP_NACK, "PLUG beyond the requested size: NACK");
    CHECK_EQ(send(REQ_PLUG, a + (1UL << 30), 1, 0), RESP_ERROR,
             "PLUG past the usable region (request + 256 MiB): ERROR");

    section("unplug");
    CHECK_EQ(send(REQ_UNPLUG, a + bs, 1, 0), RESP_ACK, "UNPLUG one block");
    CHECK_EQ(MMIO64(a + bs), 0, "an unplugged block in a mapped memslot reads zero");
    CHECK_EQ(MMIO64(a), 0x5a5a0000, "its neighbour keeps its contents");
    CHECK_EQ(send(REQ_UNPLUG_ALL, 0, 0, 0), RESP_ACK, "UNPLUG_ALL");
    CHECK_EQ(config64(C_PLUGGED_SIZE), 0, "nothing plugged");
    CHECK(load_faults(a), "all memory refused again");

    section("the host asks for more");
    puts_("waiting for the host to change the requested size");
    uint64_t deadline = mtime() + 10000000; /* one second of guest time */
    while (!(reg(R_INT_STATUS) & 2) && mtime() < deadline)
        ;
    if (!(reg(R_INT_STATUS) & 2)) {
        puts_("no request from the host");
        PASS();
    }
    set_reg(R_INT_ACK, 2);
    requested = config64(C_REQUESTED_SIZE);
    printf_("the host asks for %lu MiB\n", requested >> 20);
    uint64_t usable = config64(C_USABLE_SIZE);
    CHECK(usable >= requested, "the usable region covers the request");
    CHECK(requested > (1UL << 30), "the request reaches the second memslot");

    section("a block in another memslot");
    uint64_t far = a + (1UL << 30);
    CHECK(load_faults(far), "the second memslot is not mapped");
    CHECK_EQ(send(REQ_PLUG, far, 1, 0), RESP_ACK, "PLUG a block 1 GiB up");
    CHECK(pattern_holds(far, bs, 0xabcd0000), "it reads and writes");
    CHECK(load_faults(a + (2UL << 30)), "the third memslot stays unmapped");
    CHECK_EQ(send(REQ_UNPLUG, far, 1, 0), RESP_ACK, "UNPLUG it");
    CHECK(load_faults(far), "its memslot is gone: access fault");
    CHECK_EQ(send(REQ_UNPLUG, far, 1, 0), RESP_ERROR, "UNPLUG of an unplugged block: ERROR");

    section("plug what the host asks for");
    uint64_t refused = 0;
    for (uint64_t off = 0; off < requested; off += 16 * bs)
        refused += send(REQ_PLUG, a + off, 16, 0) != RESP_ACK;
    CHECK_EQ(refused, 0, "PLUG in steps of 16 blocks: every step ACKed");
    CHECK_EQ(config64(C_PLUGGED_SIZE), requested, "plugged what was asked");
    CHECK(pattern_holds(a, requested, 0x77770000), "all of it reads and writes");
    printf_("plugged %lu MiB\n", config64(C_PLUGGED_SIZE) >> 20);
    PASS();
}
