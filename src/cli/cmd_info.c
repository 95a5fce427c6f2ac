#include "cli.h"

#include <stdio.h>

int mmx_cmd_info(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx info: not implemented yet\n");
    return 2;
}
