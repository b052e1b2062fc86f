// ANCHOR: all
#include <inttypes.h>
#include <stdio.h>

#include "sum.h"

int main(void)
{
    printf("%" PRId64 "\n", Sum(2, 40));
    return 0;
}
// ANCHOR_END: all
