/*
 * A tiny interactive console for console-script tests: prints a prompt,
 * reads a line (from the UART on virt, polling LSR; through HTIF's console
 * read on spike), echoing what it reads, and runs it: `add A B` prints
 * `= A+B`, `echo TEXT` prints TEXT, `exit N` exits with status N. Anything
 * else prints `?`. Lines end at `\r` or `\n`. With no input it waits for
 * ever, as a real shell does.
 */
#include "devices.h"
#include "ferrite.h"

PROGRAM("shell");

extern volatile uint64_t tohost, fromhost;

/* HTIF console read (device 1, command 0): the host answers in fromhost
   with 0x100 | the byte once it has one. */
static int htif_read_char(void)
{
    while (tohost != 0)
        ;
    tohost = 1UL << 56;
    while (fromhost == 0)
        ;
    uint64_t answer = fromhost;
    fromhost = 0;
    return (uint8_t)answer;
}

static int read_char(void)
{
    if (!have_uart())
        return htif_read_char();
    while ((UART_REG(UART_LSR) & UART_LSR_DR) == 0)
        ;
    return UART_REG(UART_RBR);
}

/* Reads a line into buf (at most len - 1 characters), echoing it. */
static void read_line(char *buf, int len)
{
    int n = 0;
    for (;;) {
        int c = read_char();
        if (c == '\r' || c == '\n') {
            if (n == 0)
                continue; /* the \n of a \r\n */
            break;
        }
        if (n < len - 1) {
            buf[n++] = (char)c;
            putchar_(c);
        }
    }
    buf[n] = 0;
    putchar_('\n');
}

/* Parses a decimal number at *s, moving *s past it and any spaces. */
static long number(const char **s)
{
    long v = 0;
    int neg = 0;
    while (**s == ' ')
        (*s)++;
    if (**s == '-') {
        neg = 1;
        (*s)++;
    }
    while (**s >= '0' && **s <= '9')
        v = v * 10 + (*(*s)++ - '0');
    return neg ? -v : v;
}

static int starts(const char *s, const char *word)
{
    while (*word)
        if (*s++ != *word++)
            return 0;
    return 1;
}

int main(void)
{
    char line[80];
    puts_("shell: add A B, echo TEXT, exit N");
    for (;;) {
        print_str("ferrite> ");
        read_line(line, sizeof line);
        const char *p = line;
        if (starts(p, "add ")) {
            p += 4;
            long a = number(&p);
            long b = number(&p);
            printf_("= %ld\n", a + b);
        } else if (starts(p, "echo ")) {
            puts_(p + 5);
        } else if (starts(p, "exit ")) {
            p += 5;
            exit((int)number(&p));
        } else {
            puts_("?");
        }
    }
}
