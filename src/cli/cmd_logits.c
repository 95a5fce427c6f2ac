#include "cli.h"

#include <stdio.h>

int mmx_cmd_logits(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx logits: not implemented yet\n");
    return 2;
}
