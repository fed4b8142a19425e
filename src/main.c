#include <stdio.h>

int
main(void)
{
    fprintf(stderr, "cairn: under construction\n");
    return 1;
}
