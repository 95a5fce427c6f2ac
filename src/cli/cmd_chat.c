#include "cli.h"

#include <stdio.h>

int mmx_cmd_chat(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmx chat: not implemented yet\n");
    return 2;
}
