/* Smallest program: one line on the console, exit code 0. */
#include "ferrite.h"

PROGRAM("hello");

int main(void)
{
    puts_("Hello from Ferrite!");
    return 0;
}
