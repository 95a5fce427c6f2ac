#include "cli.h"

#include <stdio.h>

int mmx_cmd_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx bench: not implemented yet\n");
    return 2;
}
