#include "cli.h"

#include <stdio.h>

int mmx_cmd_detokenize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx detokenize: not implemented yet\n");
    return 2;
}
