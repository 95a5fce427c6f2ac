#include "cli.h"

#include <stdio.h>

int mmx_cmd_run(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx run: not implemented yet\n");
    return 2;
}
