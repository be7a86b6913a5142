/* NS16550 UART on virt: scratch register, line status, loopback (MCR.LOOP), modem status in
   loopback, and receive-data / transmit-empty interrupts delivered through the PLIC. */
#include "devices.h"

PROGRAM("dev_uart");

static volatile uint64_t irqs, rda_irqs, thre_irqs, claimed_irq, last_iir;
static volatile uint8_t received[8];
static volatile unsigned nreceived;

static int uart_irq_hook(struct trap_frame *f)
{
    if (f->cause != (CAUSE_INTERRUPT | IRQ_M_EXT))
        return 0;
    irqs++;
    uint32_t id = PLIC_CLAIM(PLIC_CTX_M0);
    claimed_irq = id;
    uint8_t iir = UART_REG(UART_IIR);
    last_iir = iir;
    if ((iir & UART_IIR_ID) == UART_IIR_RDA || (iir & UART_IIR_ID) == 0x0c) {
        rda_irqs++;
        while ((UART_REG(UART_LSR) & UART_LSR_DR) && nreceived < sizeof received)
            received[nreceived++] = UART_REG(UART_RBR);
    } else if ((iir & UART_IIR_ID) == UART_IIR_THRE) {
        thre_irqs++;    /* reading IIR cleared it; stop further ones */
        UART_REG(UART_IER) &= (uint8_t)~UART_IER_THRE;
    }
    PLIC_CLAIM(PLIC_CTX_M0) = id;
    return 1;
}

static void wait_irqs(volatile uint64_t *counter, uint64_t n)
{
    uint64_t deadline = mtime() + 1000000;   /* 100 ms */
    while (*counter < n && mtime() < deadline)
        ;
}

int main(void)
{
    require_virt();
    section("registers");
    UART_REG(UART_SCR) = 0xa5;
    CHECK_EQ(UART_REG(UART_SCR), 0xa5, "scratch register holds a byte");
    while (!(UART_REG(UART_LSR) & UART_LSR_TEMT))
        ;
    CHECK_EQ(UART_REG(UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT,
             "LSR: transmitter empty");
    CHECK_EQ(UART_REG(UART_IIR) & 0x0f, UART_IIR_NONE, "IIR: no interrupt pending");

    section("loopback");
    UART_REG(UART_FCR) = 0x07;              /* FIFOs on, both cleared */
    UART_REG(UART_MCR) = UART_MCR_LOOP | 0x0f;
    uint8_t msr = UART_REG(UART_MSR);
    uint8_t lsr_before = UART_REG(UART_LSR);
    UART_REG(UART_THR) = 'Z';
    UART_REG(UART_THR) = 'y';
    UART_REG(UART_THR) = '!';
    uint8_t lsr_after = UART_REG(UART_LSR);
    uint8_t c0 = UART_REG(UART_RBR), c1 = UART_REG(UART_RBR), c2 = UART_REG(UART_RBR);
    uint8_t lsr_drained = UART_REG(UART_LSR);
    UART_REG(UART_MCR) = 0;
    CHECK_EQ(msr & 0xf0, 0xf0, "MSR mirrors MCR's DTR/RTS/OUT1/OUT2 in loopback");
    CHECK_EQ(lsr_before & UART_LSR_DR, 0, "no data ready before sending");
    CHECK_EQ(lsr_after & UART_LSR_DR, UART_LSR_DR, "data ready after sending in loopback");
    CHECK_EQ(c0, 'Z', "first byte looped back");
    CHECK_EQ(c1, 'y', "second byte looped back");
    CHECK_EQ(c2, '!', "third byte looped back");
    CHECK_EQ(lsr_drained & UART_LSR_DR, 0, "no data ready once drained");

    section("interrupts through the PLIC (source 10, context 0)");
    PLIC_PRIORITY(UART_IRQ) = 1;
    PLIC_THRESHOLD(PLIC_CTX_M0) = 0;
    PLIC_ENABLE(PLIC_CTX_M0, 0) = 1u << UART_IRQ;
    m_irq_hook = uart_irq_hook;
    csr_set(mie, MIP_MEIP);
    csr_set(mstatus, MSTATUS_MIE);

    UART_REG(UART_MCR) = UART_MCR_LOOP;
    UART_REG(UART_IER) = UART_IER_RDA;
    UART_REG(UART_THR) = 'Q';
    wait_irqs(&rda_irqs, 1);
    UART_REG(UART_IER) = 0;
    UART_REG(UART_MCR) = 0;
    CHECK_EQ(rda_irqs, 1, "receive-data interrupt");
    CHECK_EQ(claimed_irq, UART_IRQ, "PLIC claim names source 10");
    CHECK_EQ(nreceived, 1, "one byte received in the handler");
    CHECK_EQ(received[0], 'Q', "  it is the byte sent");

    UART_REG(UART_IER) = UART_IER_THRE;
    wait_irqs(&thre_irqs, 1);
    UART_REG(UART_IER) = 0;
    CHECK_EQ(thre_irqs, 1, "transmit-empty interrupt once enabled with THR empty");
    CHECK_EQ(last_iir & UART_IIR_ID, UART_IIR_THRE, "IIR identified THRE");
    csr_clear(mstatus, MSTATUS_MIE);
    csr_clear(mie, MIP_MEIP);
    CHECK_EQ(irqs, 2, "exactly two external interrupts in all");
    CHECK_EQ(PLIC_PENDING(0) & (1u << UART_IRQ), 0, "nothing left pending");
    PASS();
}
