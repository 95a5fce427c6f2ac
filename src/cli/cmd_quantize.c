#include "cli.h"

#include <stdio.h>

int mmx_cmd_quantize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx quantize: not implemented yet\n");
    return 2;
}
