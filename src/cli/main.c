#include "mmx.h"
#include <stdio.h>
int main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "mmx: no commands yet\n"); return 2; }
