/* extract_cli.c - placeholder until the extraction engine lands. */
#include "enrich/extract_cli.h"

#include <stdio.h>

int enrich_extract_cli(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sp-enrich extract: not built yet\n");
    return 2;
}
