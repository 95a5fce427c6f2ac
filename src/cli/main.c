/* mmx — command-line front end: dispatches to the subcommands of cli.h. */
#include "cli.h"
#include "mmx.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"run", mmx_cmd_run, "complete a prompt, streaming the text"},
    {"chat", mmx_cmd_chat, "interactive chat (one turn per line when stdin is not a terminal)"},
    {"generate", mmx_cmd_generate, "greedy continuation of token ids"},
    {"logits", mmx_cmd_logits, "write the logits of every position to a file"},
    {"info", mmx_cmd_info, "describe a model: layers, parameters, memory"},
    {"tokenize", mmx_cmd_tokenize, "text on stdin -> token ids"},
    {"detokenize", mmx_cmd_detokenize, "token ids on stdin -> text"},
    {"template", mmx_cmd_template, "render a chat prompt"},
    {"bench", mmx_cmd_bench, "prefill and decode speed"},
    {"quantize", mmx_cmd_quantize, "convert a model to a quantized GGUF"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: mmx COMMAND [options]   (mmx COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "mmx: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
