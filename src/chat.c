/* Chat prompt rendering (see chat.h). */
#include "chat.h"
#include "tokenizer.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
    size_t *marks; /* offsets of template-emitted special-token strings */
    size_t n_marks, cap_marks;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

/* Emits a special-token string that the template itself writes (not user text), recording where. */
static void mark(sbuf *b, const char *s) {
    if (b->n_marks == b->cap_marks) {
        size_t cap = b->cap_marks ? 2 * b->cap_marks : 32;
        size_t *nm = realloc(b->marks, cap * sizeof *nm);
        if (!nm) {
            b->oom = true;
            return;
        }
        b->marks = nm;
        b->cap_marks = cap;
    }
    b->marks[b->n_marks++] = b->n;
    puts_(b, s);
}

/* ---- Python-compatible json.dumps(ensure_ascii=False) -------------------------------------------- */

static void dump_string(sbuf *b, const char *s, size_t n) {
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"': put(b, "\\\"", 2); break;
        case '\\': put(b, "\\\\", 2); break;
        case '\n': put(b, "\\n", 2); break;
        case '\r': put(b, "\\r", 2); break;
        case '\t': put(b, "\\t", 2); break;
        case '\b': put(b, "\\b", 2); break;
        case '\f': put(b, "\\f", 2); break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                put(b, esc, 6);
            } else {
                put(b, (const char *)&c, 1);
            }
        }
    }
    put(b, "\"", 1);
}

/* Python float repr: shortest round-trip digits; scientific when exponent < -4 or >= 16. */
static void dump_real(sbuf *b, double v) {
    char buf[64];
    if (isnan(v)) return puts_(b, "NaN");
    if (isinf(v)) return puts_(b, v > 0 ? "Infinity" : "-Infinity");
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* buf = d.ddde[+-]XX */
    char *e = strchr(buf, 'e');
    int exp10 = atoi(e + 1);
    *e = 0;
    char digits[32];
    size_t nd = 0;
    bool neg = buf[0] == '-';
    for (char *p = buf + neg; *p; p++)
        if (*p != '.') digits[nd++] = *p;
    digits[nd] = 0;
    char out[64];
    size_t o = 0;
    if (neg) out[o++] = '-';
    if (exp10 < -4 || exp10 >= 16) {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (size_t i = 1; i < nd; i++) out[o++] = digits[i];
        }
        o += (size_t)snprintf(out + o, sizeof out - o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (exp10 < 0) {
        out[o++] = '0', out[o++] = '.';
        for (int i = 0; i < -exp10 - 1; i++) out[o++] = '0';
        for (size_t i = 0; i < nd; i++) out[o++] = digits[i];
    } else {
        for (int i = 0; i <= exp10; i++) out[o++] = (size_t)i < nd ? digits[i] : '0';
        out[o++] = '.';
        if ((size_t)exp10 + 1 < nd)
            for (size_t i = (size_t)exp10 + 1; i < nd; i++) out[o++] = digits[i];
        else
            out[o++] = '0';
    }
    put(b, out, o);
}

static void dump(sbuf *b, const json_t *v) {
    char buf[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        put(b, "{", 1);
        const char *k;
        json_t *x;
        bool first = true;
        json_object_foreach((json_t *)v, k, x) {
            if (!first) put(b, ", ", 2);
            first = false;
            dump_string(b, k, strlen(k));
            put(b, ": ", 2);
            dump(b, x);
        }
        put(b, "}", 1);
        break;
    }
    case JSON_ARRAY: {
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) put(b, ", ", 2);
            dump(b, json_array_get(v, i));
        }
        put(b, "]", 1);
        break;
    }
    case JSON_STRING: dump_string(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        puts_(b, buf);
        break;
    case JSON_REAL: dump_real(b, json_real_value(v)); break;
    case JSON_TRUE: puts_(b, "true"); break;
    case JSON_FALSE: puts_(b, "false"); break;
    case JSON_NULL: puts_(b, "null"); break;
    }
}

char *mmx_json_dumps_python(const json_t *v) {
    sbuf b = {0};
    dump(&b, v);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p ? b.p : strdup("");
}

/* ---- kinds ------------------------------------------------------------------------------------- */

const char *mmx_chat_kind_name(mmx_chat_kind k) {
    switch (k) {
    case MMX_CHAT_TEXT01: return "text01";
    case MMX_CHAT_VLLM: return "vllm";
    default: return "m1";
    }
}

bool mmx_chat_kind_parse(const char *name, mmx_chat_kind *out) {
    if (!strcmp(name, "m1")) *out = MMX_CHAT_M1;
    else if (!strcmp(name, "text01")) *out = MMX_CHAT_TEXT01;
    else if (!strcmp(name, "vllm")) *out = MMX_CHAT_VLLM;
    else return false;
    return true;
}

mmx_chat_kind mmx_chat_detect(const char *tmpl, const char *arch) {
    if (tmpl && strstr(tmpl, "ai name=MiniMax AI")) return MMX_CHAT_VLLM;
    if (tmpl && strstr(tmpl, "ai_setting=assistant")) return MMX_CHAT_M1;
    if (arch && strstr(arch, "Text01")) return MMX_CHAT_TEXT01;
    return MMX_CHAT_M1;
}

/* ---- rendering ------------------------------------------------------------------------------------ */

#define BOS "<beginning_of_sentence>"
#define EOS "<end_of_sentence>"
#define VLLM_DEFAULT_SYSTEM "You are a helpful assistant created by Minimax based on MiniMax-M1 model."

/* The text of part 0 (list) or the string itself; NULL + error if content has another shape. */
static const char *first_text(const json_t *content, size_t mi, size_t *len, mmx_error *err) {
    if (json_is_string(content)) {
        *len = json_string_length(content);
        return json_string_value(content);
    }
    if (json_is_array(content) && json_array_size(content) > 0) {
        json_t *t = json_object_get(json_array_get(content, 0), "text");
        if (json_is_string(t)) {
            *len = json_string_length(t);
            return json_string_value(t);
        }
    }
    mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content must be a string or a non-empty list of text parts", mi);
    return NULL;
}

static mmx_status check_content(const json_t *content, size_t mi, mmx_error *err) {
    if (json_is_string(content)) return MMX_OK;
    if (!json_is_array(content))
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content must be a string or a list of parts", mi);
    size_t i;
    json_t *part;
    json_array_foreach(content, i, part) {
        if (!json_is_object(part))
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content[%zu] is not an object", mi, i);
        json_t *type = json_object_get(part, "type"), *text = json_object_get(part, "text");
        if (type && !json_is_string(type))
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content[%zu].type must be a string", mi, i);
        if ((!type || !strcmp(json_string_value(type), "text")) && text && !json_is_string(text))
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content[%zu].text must be a string", mi, i);
    }
    return MMX_OK;
}

/* Concatenated text of all parts with type "text" (a string content is one such part). */
static void put_all_text(sbuf *b, const json_t *content) {
    if (json_is_string(content)) {
        put(b, json_string_value(content), json_string_length(content));
        return;
    }
    size_t i;
    json_t *part;
    json_array_foreach(content, i, part) {
        json_t *type = json_object_get(part, "type"), *text = json_object_get(part, "text");
        if (json_is_string(type) && !strcmp(json_string_value(type), "text") && json_is_string(text))
            put(b, json_string_value(text), json_string_length(text));
    }
}

mmx_status mmx_chat_render_marked(mmx_chat_kind kind, const json_t *messages, const json_t *tools, bool add_gen,
                                  char **out, size_t *out_len, size_t **marks, size_t *n_marks, mmx_error *err) {
    *out = NULL;
    if (marks) *marks = NULL, *n_marks = 0;
    if (!json_is_array(messages)) return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages must be a JSON array");
    if (tools && !json_is_null(tools) && !json_is_array(tools))
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "tools must be a JSON array");
    const bool vllm = kind == MMX_CHAT_VLLM;
    const char *ai = vllm ? "ai name=MiniMax AI\n" : "ai name=assistant\n";
    size_t i;
    json_t *m;
    /* validate first, so errors never leave half a prompt */
    json_array_foreach(messages, i, m) {
        if (!json_is_object(m)) return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu] is not an object", i);
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!role) return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].role is missing or not a string", i);
        if (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant") && strcmp(role, "tool"))
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].role '%.40s' is not system, user, assistant or tool",
                            i, role);
        json_t *content = json_object_get(m, "content");
        if (!content || json_is_null(content)) {
            if (!strcmp(role, "assistant")) continue; /* assistant with only tool_calls */
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content is missing", i);
        }
        mmx_status st = check_content(content, i, err);
        if (st != MMX_OK) return st;
        if (!strcmp(role, "system") || !strcmp(role, "user")) {
            size_t l;
            if (!first_text(content, i, &l, err)) return err ? err->status : MMX_ERR_INVALID_ARG;
        }
    }
    sbuf b = {0};
    mark(&b, "<begin_of_document>");
    /* system: concatenation of the first text part of every system message */
    sbuf sys = {0};
    json_array_foreach(messages, i, m) {
        if (strcmp(json_string_value(json_object_get(m, "role")), "system")) continue;
        size_t l;
        const char *t = first_text(json_object_get(m, "content"), i, &l, err);
        put(&sys, t, l);
    }
    if (vllm && sys.n == 0) puts_(&sys, VLLM_DEFAULT_SYSTEM);
    if (sys.n) {
        mark(&b, BOS);
        puts_(&b, vllm ? "system ai_setting=MiniMax AI\n" : "system ai_setting=assistant\n");
        put(&b, sys.p, sys.n);
        mark(&b, EOS);
        puts_(&b, "\n");
    }
    free(sys.p);
    if (tools && json_is_array(tools) && json_array_size(tools) > 0) {
        mark(&b, BOS);
        puts_(&b, "system tool_setting=tools\nYou are provided with these tools:\n<tools>\n");
        json_t *tool;
        json_array_foreach(tools, i, tool) {
            char *s = mmx_json_dumps_python(tool);
            if (!s) b.oom = true;
            else puts_(&b, s);
            free(s);
            puts_(&b, "\n");
        }
        puts_(&b, "</tools>\n\nIf you need to call tools, please respond with <tool_calls></tool_calls> XML tags, and "
                  "provide tool-name and json-object of arguments, following the format below:\n<tool_calls>\n");
        puts_(&b, vllm ? "{\"name\": <tool-name-1>, \"arguments\": <args-json-object-1>}"
                       : "{name: <tool-name-1>, arguments: <args-json-object-1>}");
        puts_(&b, "\n...\n</tool_calls>");
        mark(&b, EOS);
        puts_(&b, "\n");
    }
    json_array_foreach(messages, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        json_t *content = json_object_get(m, "content");
        if (!strcmp(role, "user")) {
            size_t l;
            const char *t = first_text(content, i, &l, err);
            mark(&b, BOS);
            puts_(&b, "user name=user\n");
            put(&b, t, l);
            mark(&b, EOS);
            puts_(&b, "\n");
        } else if (!strcmp(role, "assistant")) {
            mark(&b, BOS);
            puts_(&b, ai);
            if (content && !json_is_null(content)) put_all_text(&b, content);
            json_t *calls = json_object_get(m, "tool_calls");
            if (vllm && json_is_array(calls) && json_array_size(calls) > 0) {
                puts_(&b, "<tool_calls>\n");
                size_t c;
                json_t *call;
                json_array_foreach(calls, c, call) {
                    json_t *fn = json_object_get(call, "function");
                    json_t *obj = json_object();
                    json_t *args = json_object_get(fn, "arguments");
                    json_t *parsed = json_is_string(args) ? json_loads(json_string_value(args), 0, NULL) : NULL;
                    json_object_set(obj, "name", json_object_get(fn, "name") ? json_object_get(fn, "name") : json_null());
                    json_object_set_new(obj, "arguments", parsed ? parsed : args ? json_incref(args) : json_object());
                    char *s = mmx_json_dumps_python(obj);
                    if (!s) b.oom = true;
                    else puts_(&b, s);
                    free(s);
                    json_decref(obj);
                    puts_(&b, "\n");
                }
                puts_(&b, "</tool_calls>");
            }
            mark(&b, EOS);
            puts_(&b, "\n");
        } else if (!strcmp(role, "tool")) {
            mark(&b, BOS);
            puts_(&b, "tool name=tools\n");
            if (json_is_string(content)) {
                /* OpenAI tool message: one result, named by the message */
                const char *name = json_string_value(json_object_get(m, "name"));
                puts_(&b, "tool name: ");
                puts_(&b, name ? name : "");
                puts_(&b, "\ntool result: ");
                put(&b, json_string_value(content), json_string_length(content));
                puts_(&b, "\n\n");
            } else {
                size_t c;
                json_t *part;
                json_array_foreach(content, c, part) {
                    json_t *name = json_object_get(part, "name"), *text = json_object_get(part, "text");
                    puts_(&b, "tool name: ");
                    if (json_is_string(name)) put(&b, json_string_value(name), json_string_length(name));
                    puts_(&b, "\ntool result: ");
                    if (json_is_string(text)) put(&b, json_string_value(text), json_string_length(text));
                    puts_(&b, "\n\n");
                }
            }
            mark(&b, EOS);
            puts_(&b, "\n");
        }
    }
    if (add_gen) {
        mark(&b, BOS);
        puts_(&b, ai);
    }
    if (b.oom) {
        free(b.p);
        free(b.marks);
        return mmx_fail(err, MMX_ERR_NOMEM, "out of memory rendering the chat prompt");
    }
    *out = b.p;
    *out_len = b.n;
    if (marks) {
        *marks = b.marks;
        *n_marks = b.n_marks;
    } else {
        free(b.marks);
    }
    return MMX_OK;
}

mmx_status mmx_chat_render(mmx_chat_kind kind, const json_t *messages, const json_t *tools, bool add_gen, char **out,
                           size_t *out_len, mmx_error *err) {
    return mmx_chat_render_marked(kind, messages, tools, add_gen, out, out_len, NULL, NULL, err);
}

mmx_status mmx_chat_tokenize(const mmx_tokenizer *tok, const char *text, size_t len, const size_t *marks, size_t n_marks,
                             int32_t **ids, size_t *n_ids, mmx_error *err) {
    static const char *const specials[] = {"<begin_of_document>", BOS, EOS};
    size_t cap = len + 16, n = 0, pos = 0;
    int32_t *out = malloc(cap * sizeof *out);
    if (!out) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k <= n_marks; k++) {
        size_t end = k < n_marks ? marks[k] : len, got;
        /* user and tool text between the template's markers: never parsed for special tokens */
        mmx_status st = mmx_tokenizer_encode(tok, text + pos, end - pos, false, out + n, cap - n, &got, err);
        if (st != MMX_OK || n + got > cap) {
            free(out);
            return st != MMX_OK ? st : mmx_fail(err, MMX_ERR_NOMEM, "prompt token buffer too small");
        }
        n += got;
        if (k == n_marks) break;
        size_t ml = 0;
        int32_t id = -1;
        for (size_t s = 0; s < 3; s++) {
            size_t l = strlen(specials[s]);
            if (end + l <= len && !memcmp(text + end, specials[s], l)) {
                id = mmx_tokenizer_find(tok, specials[s]);
                ml = l;
            }
        }
        if (id < 0) {
            free(out);
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "the tokenizer has no token for a chat marker at byte %zu", end);
        }
        out[n++] = id;
        pos = end + ml;
    }
    *ids = out;
    *n_ids = n;
    return MMX_OK;
}

/* ---- public JSON-text API ------------------------------------------------------------------------ */

static mmx_status parse_inputs(const char *messages_json, const char *tools_json, json_t **m, json_t **t,
                               mmx_error *err) {
    json_error_t jerr;
    *t = NULL;
    *m = json_loads(messages_json, 0, &jerr);
    if (!*m) return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages: bad JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    if (tools_json && !(*t = json_loads(tools_json, 0, &jerr))) {
        json_decref(*m);
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "tools: bad JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    }
    return MMX_OK;
}

mmx_status mmx_chat_render_json(mmx_chat_kind kind, const char *messages_json, const char *tools_json, bool add_gen,
                                char **out, size_t *out_len, mmx_error *err) {
    json_t *m, *t;
    *out = NULL;
    mmx_status st = parse_inputs(messages_json, tools_json, &m, &t, err);
    if (st != MMX_OK) return st;
    st = mmx_chat_render(kind, m, t, add_gen, out, out_len, err);
    json_decref(m);
    json_decref(t);
    return st;
}

mmx_status mmx_chat_tokenize_json(const mmx_tokenizer *tok, mmx_chat_kind kind, const char *messages_json,
                                  const char *tools_json, bool add_gen, int32_t **ids, size_t *n_ids, mmx_error *err) {
    json_t *m, *t;
    *ids = NULL;
    mmx_status st = parse_inputs(messages_json, tools_json, &m, &t, err);
    if (st != MMX_OK) return st;
    char *text;
    size_t len, *marks, n_marks;
    st = mmx_chat_render_marked(kind, m, t, add_gen, &text, &len, &marks, &n_marks, err);
    if (st == MMX_OK) {
        st = mmx_chat_tokenize(tok, text, len, marks, n_marks, ids, n_ids, err);
        free(text);
        free(marks);
    }
    json_decref(m);
    json_decref(t);
    return st;
}
