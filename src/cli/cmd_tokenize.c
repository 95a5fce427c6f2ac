/* mmx tokenize / mmx detokenize: text <-> token ids with the model's tokenizer. */
#define _GNU_SOURCE
#include "cli.h"
#include "common.h"
#include "tokenizer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *model, *tokenizer;
    bool no_special, jsonl, skip_special;
} tok_opts;

static int parse_opts(const char *cmd, int argc, char **argv, tok_opts *o) {
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            if (!strcmp(cmd, "tokenize"))
                printf("usage: mmx tokenize (-m MODEL | --tokenizer PATH) [--no-special] [--jsonl]\n"
                       "  Reads text on stdin and prints its token ids as a JSON array.  Special-token text\n"
                       "  such as <end_of_sentence> becomes its id unless --no-special.  With --jsonl, each\n"
                       "  input line is a JSON object with a \"text\" field and each output line the array.\n");
            else
                printf("usage: mmx detokenize (-m MODEL | --tokenizer PATH) [--skip-special] [--jsonl]\n"
                       "  Reads a JSON array of token ids on stdin and prints the text.  With --jsonl, each\n"
                       "  input line is an array and each output line a JSON object {\"text\": ...}.\n");
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(o->model = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--tokenizer")) {
            if (!(o->tokenizer = cli_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--no-special")) {
            o->no_special = true;
        } else if (!strcmp(a, "--skip-special")) {
            o->skip_special = true;
        } else if (!strcmp(a, "--jsonl")) {
            o->jsonl = true;
        } else {
            fprintf(stderr, "mmx %s: unknown option '%s'\n", cmd, a);
            return 2;
        }
    }
    return -1;
}

static void print_ids(const int32_t *ids, size_t n) {
    putchar('[');
    for (size_t i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
    puts("]");
}

int mmx_cmd_tokenize(int argc, char **argv) {
    tok_opts o;
    int rc = parse_opts("tokenize", argc, argv, &o);
    if (rc >= 0) return rc;
    mmx_tokenizer *tok = cli_load_tokenizer("tokenize", o.model, o.tokenizer);
    if (!tok) return 1;
    rc = 0;
    mmx_error err;
    if (!o.jsonl) {
        size_t len;
        char *text = cli_read_stdin(&len);
        int32_t *ids;
        size_t n;
        if (!text || mmx_tokenizer_encode_alloc(tok, text, len, !o.no_special, &ids, &n, &err) != MMX_OK) {
            fprintf(stderr, "mmx tokenize: %s\n", text ? err.message : "cannot read stdin");
            rc = 1;
        } else {
            print_ids(ids, n);
            free(ids);
        }
        free(text);
    } else {
        char *line = NULL;
        size_t cap = 0, lineno = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) > 0) {
            lineno++;
            json_error_t jerr;
            json_t *j = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &jerr);
            json_t *text = json_object_get(j, "text");
            if (!json_is_string(text)) {
                fprintf(stderr, "mmx tokenize: line %zu: expected a JSON object with a string \"text\"\n", lineno);
                json_decref(j);
                rc = 1;
                break;
            }
            int32_t *ids;
            size_t ni;
            if (mmx_tokenizer_encode_alloc(tok, json_string_value(text), json_string_length(text), !o.no_special, &ids,
                                           &ni, &err) != MMX_OK) {
                fprintf(stderr, "mmx tokenize: line %zu: %s\n", lineno, err.message);
                json_decref(j);
                rc = 1;
                break;
            }
            print_ids(ids, ni);
            free(ids);
            json_decref(j);
        }
        free(line);
    }
    mmx_tokenizer_free(tok);
    return rc;
}

/* Parses a JSON array of ids; prints the problem and returns false when invalid. */
static bool ids_from_json(json_t *arr, int32_t **ids, size_t *n, size_t lineno) {
    if (!json_is_array(arr)) {
        fprintf(stderr, "mmx detokenize: line %zu: expected a JSON array of token ids\n", lineno);
        return false;
    }
    *n = json_array_size(arr);
    *ids = malloc((*n + 1) * sizeof **ids);
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX) {
            fprintf(stderr, "mmx detokenize: line %zu: element %zu is not a token id\n", lineno, i);
            free(*ids);
            return false;
        }
        (*ids)[i] = (int32_t)json_integer_value(v);
    }
    return true;
}

int mmx_cmd_detokenize(int argc, char **argv) {
    tok_opts o;
    int rc = parse_opts("detokenize", argc, argv, &o);
    if (rc >= 0) return rc;
    mmx_tokenizer *tok = cli_load_tokenizer("detokenize", o.model, o.tokenizer);
    if (!tok) return 1;
    rc = 0;
    char *line = NULL;
    size_t cap = 0, lineno = 0, len;
    ssize_t n;
    char *all = o.jsonl ? NULL : cli_read_stdin(&len);
    for (;;) {
        json_t *j;
        if (o.jsonl) {
            if ((n = getline(&line, &cap, stdin)) <= 0) break;
            lineno++;
            j = json_loadb(line, (size_t)n, 0, NULL);
        } else {
            j = all ? json_loads(all, 0, NULL) : NULL;
            lineno = 1;
        }
        int32_t *ids;
        size_t ni, tl;
        mmx_error err;
        if (!ids_from_json(j, &ids, &ni, lineno)) {
            json_decref(j);
            rc = 1;
            break;
        }
        json_decref(j);
        mmx_tokenizer_decode(tok, ids, ni, o.skip_special, NULL, 0, &tl, &err);
        char *text = malloc(tl + 1);
        if (mmx_tokenizer_decode(tok, ids, ni, o.skip_special, text, tl, &tl, &err) != MMX_OK) {
            fprintf(stderr, "mmx detokenize: line %zu: %s\n", lineno, err.message);
            free(text);
            free(ids);
            rc = 1;
            break;
        }
        if (o.jsonl) {
            json_t *obj = json_pack("{s:s%}", "text", text, tl);
            char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
            if (s) puts(s);
            else fprintf(stderr, "mmx detokenize: line %zu: the ids do not decode to valid UTF-8\n", lineno), rc = 1;
            free(s);
            json_decref(obj);
        } else {
            fwrite(text, 1, tl, stdout);
        }
        free(text);
        free(ids);
        if (!o.jsonl) break;
    }
    free(line);
    free(all);
    mmx_tokenizer_free(tok);
    return rc;
}
