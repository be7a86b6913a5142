/* A guest for debugger tests: a function to break on (tick), a variable it
   writes (watched, for a write watchpoint), one main reads (read_me, for a
   read watchpoint), values a debugger may set (poked, exit_code,
   spin_forever), and a second hart counting in a loop of its own (-smp 2).
   Prints what it computed and exits with exit_code. */
#include "ferrite.h"

PROGRAM("debuggee");

volatile uint64_t watched;
volatile uint64_t read_me = 5;
volatile uint64_t poked = 1;
volatile uint64_t exit_code;
volatile uint64_t spin_forever;
volatile uint64_t hart1_count;

__attribute__((noinline)) void tick(uint64_t i)
{
    watched = i * 3;
}

__attribute__((noinline)) uint64_t add_poked(uint64_t acc)
{
    return acc + poked;
}

void secondary_main(uint64_t h)
{
    if (h != 1)
        return;
    for (;;)
        hart1_count++;
}

int main(void)
{
    uint64_t acc = 0;
    for (uint64_t i = 0; i < 10; i++) {
        tick(i);
        acc = add_poked(acc) + read_me;
    }
    while (spin_forever)
        acc++;
    printf_("acc=%lu watched=%lu\n", acc, watched);
    return (int)exit_code;
}
