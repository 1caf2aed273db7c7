/* spctl - operator CLI. */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("usage: spctl COMMAND\n");
    return 0;
}
