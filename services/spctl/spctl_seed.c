/* placeholder replaced below */
#include "spctl/spctl.h"
int spctl_seed(const struct spctl_cfg *cfg, int argc, char **argv)
{
    (void)cfg, (void)argc, (void)argv;
    return 1;
}
