#include "cli.h"

#include <stdio.h>

int mmx_cmd_tokenize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx tokenize: not implemented yet\n");
    return 2;
}
