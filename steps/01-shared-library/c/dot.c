// ANCHOR: all
#include <stdio.h>

#include "sum.h"

int main(void)
{
    char *res = AddDot("Hello, world");
    if (res == NULL)
        return 1;
    printf("%s\n", res);
    FreeString(res); /* the library allocated it, so the library frees it */
    return 0;
}
// ANCHOR_END: all
