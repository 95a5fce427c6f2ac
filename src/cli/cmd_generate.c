#include "cli.h"

#include <stdio.h>

int mmx_cmd_generate(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx generate: not implemented yet\n");
    return 2;
}
