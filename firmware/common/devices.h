/* Register maps of the virt board's NS16550 UART and PLIC, for the device tests. */
#ifndef FERRITE_DEVICES_H
#define FERRITE_DEVICES_H
#include "ferrite.h"

#define UART_REG(r)   MMIO8(UART0_BASE + (r))
#define UART_RBR 0    /* read: receive buffer */
#define UART_THR 0    /* write: transmit holding */
#define UART_IER 1
#define UART_IIR 2    /* read: interrupt identification */
#define UART_FCR 2    /* write: FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_IER_RDA  0x01
#define UART_IER_THRE 0x02
#define UART_IIR_NONE 0x01
#define UART_IIR_ID   0x0e
#define UART_IIR_THRE 0x02
#define UART_IIR_RDA  0x04
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR   0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_IRQ 10   /* the UART's PLIC source on virt */

#define PLIC_PRIORITY(irq)   MMIO32(PLIC_BASE + 4 * (irq))
#define PLIC_PENDING(word)   MMIO32(PLIC_BASE + 0x1000 + 4 * (word))
#define PLIC_ENABLE(ctx, w)  MMIO32(PLIC_BASE + 0x2000 + 0x80 * (ctx) + 4 * (w))
#define PLIC_THRESHOLD(ctx)  MMIO32(PLIC_BASE + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)      MMIO32(PLIC_BASE + 0x200004 + 0x1000 * (ctx))
#define PLIC_CTX_M0 0        /* hart 0, M mode */
#define PLIC_CTX_S0 1        /* hart 0, S mode */

/* Device tests need the virt board: elsewhere they report SKIP and pass. */
static inline void require_virt(void)
{
    if (!have_uart()) {
        puts_("SKIP: no NS16550 UART on this board");
        exit(0);
    }
}
#endif
