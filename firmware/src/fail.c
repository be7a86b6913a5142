/* A program that fails on purpose: one line, then exit code 3. */
#include "ferrite.h"

PROGRAM("fail");

int main(void)
{
    puts_("Failing on purpose with exit code 3");
    exit(3);
}
