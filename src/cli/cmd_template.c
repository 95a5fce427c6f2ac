#include "cli.h"

#include <stdio.h>

int mmx_cmd_template(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx template: not implemented yet\n");
    return 2;
}
