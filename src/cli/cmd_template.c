/* mmx template: renders a chat prompt from JSON messages (and tools) with the model's template. */
#include "chat.h"
#include "cli.h"
#include "common.h"
#include "gen.h"

#include <stdlib.h>
#include <string.h>

int mmx_cmd_template(int argc, char **argv) {
    const char *model = NULL, *messages_path = NULL, *tools_path = NULL, *kind_name = NULL;
    bool gen = true, show_ids = false, tool_calls = false;
    const char *tokenizer = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: mmx template -m MODEL --messages FILE.json [--tools FILE.json]\n"
                   "                    [--template m1|text01|vllm|llamacpp] [--no-generation-prompt] [--tool-calls]\n"
                   "                    [--ids [--tokenizer FILE]]\n"
                   "  Prints the rendered prompt (or with --ids its token ids, markers as special tokens and\n"
                   "  message text as plain text).  FILE.json holds an OpenAI-style messages array, the tools\n"
                   "  file a JSON array of tool objects.  The template comes from the model (tokenizer_config.json /\n"
                   "  config.json, or the GGUF's tokenizer.chat_template) unless --template is given; -m is then\n"
                   "  optional (needed for --ids).\n"
                   "    m1        official MiniMax-M1 template (default)\n"
                   "    text01    MiniMax-Text-01 (same format as m1)\n"
                   "    vllm      vLLM's tool_chat_template_minimax_m1.jinja (\"ai name=MiniMax AI\")\n"
                   "    llamacpp  llama.cpp's MiniMax-M1.jinja, written into GGUFs by its converter\n"
                   "  --tool-calls  m1/text01: also render assistant tool_calls (the official template drops them)\n");
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(model = cli_value("template", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--messages")) {
            if (!(messages_path = cli_value("template", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--tools")) {
            if (!(tools_path = cli_value("template", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--template")) {
            if (!(kind_name = cli_value("template", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--tokenizer")) {
            if (!(tokenizer = cli_value("template", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--no-generation-prompt")) {
            gen = false;
        } else if (!strcmp(a, "--tool-calls")) {
            tool_calls = true;
        } else if (!strcmp(a, "--ids")) {
            show_ids = true;
        } else {
            fprintf(stderr, "mmx template: unknown option '%s'\n", a);
            return 2;
        }
    }
    if (!messages_path || (!model && !kind_name)) {
        fprintf(stderr, "mmx template: --messages FILE and -m MODEL (or --template KIND) are required\n");
        return 2;
    }
    mmx_chat_kind kind = MMX_CHAT_M1;
    if (kind_name && !mmx_chat_kind_parse(kind_name, &kind)) {
        fprintf(stderr, "mmx template: unknown --template '%s' (m1, text01, vllm, llamacpp)\n", kind_name);
        return 2;
    }
    if (!kind_name) kind = gen_detect_chat_kind(model);
    if (show_ids && !model && !tokenizer) {
        fprintf(stderr, "mmx template: --ids needs -m MODEL or --tokenizer FILE\n");
        return 2;
    }
    json_error_t jerr;
    json_t *messages = json_load_file(messages_path, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!messages) {
        fprintf(stderr, "mmx template: %s: bad JSON at line %d: %s\n", messages_path, jerr.line, jerr.text);
        return 1;
    }
    json_t *tools = NULL;
    if (tools_path && !(tools = json_load_file(tools_path, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr))) {
        fprintf(stderr, "mmx template: %s: bad JSON at line %d: %s\n", tools_path, jerr.line, jerr.text);
        json_decref(messages);
        return 1;
    }
    char *text;
    size_t len, *marks, n_marks;
    mmx_error err;
    int rc = 0;
    mmx_chat_options opts = mmx_chat_default_options();
    opts.add_generation_prompt = gen;
    opts.render_tool_calls = tool_calls;
    if (mmx_chat_render_opts(kind, messages, tools, &opts, &text, &len, &marks, &n_marks, &err) != MMX_OK) {
        fprintf(stderr, "mmx template: %s\n", err.message);
        rc = 1;
    } else if (show_ids) {
        mmx_tokenizer *tok = cli_load_tokenizer("template", model, tokenizer);
        int32_t *ids;
        size_t n;
        if (!tok || mmx_chat_tokenize(tok, text, len, marks, n_marks, &ids, &n, &err) != MMX_OK) {
            if (tok) fprintf(stderr, "mmx template: %s\n", err.message);
            rc = 1;
        } else {
            putchar('[');
            for (size_t i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
            puts("]");
            free(ids);
        }
        mmx_tokenizer_free(tok);
        free(text);
        free(marks);
    } else {
        fwrite(text, 1, len, stdout);
        free(text);
        free(marks);
    }
    json_decref(messages);
    json_decref(tools);
    return rc;
}
