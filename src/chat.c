/* Chat prompt rendering (see chat.h for the templates and mmx.h for the public API). */
#include "chat.h"
#include "tokenizer.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- output buffer ------------------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
    size_t *marks; /* offsets of template-emitted special-token strings */
    size_t n_marks, cap_marks;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (n + 1 > b->cap - b->n || !b->p) {
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
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }
static void put_json_str(sbuf *b, const json_t *s) { put(b, json_string_value(s), json_string_length(s)); }

/* Emits a special-token string that the template itself writes (not user text), recording where. */
static void mark(sbuf *b, const char *s) {
    if (b->oom) return;
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
    size_t run = 0; /* bytes copied verbatim, flushed before each escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc) {
            put(b, s + i - run, run);
            run = 0;
            puts_(b, esc);
        } else {
            run++;
        }
    }
    put(b, s + n - run, run);
    put(b, "\"", 1);
}

/* Python float repr: the shortest digits that round-trip; scientific notation when the decimal
 * exponent is < -4 or >= 16 (then at least two exponent digits), else positional with ".0" for
 * integral values. */
static void dump_real(sbuf *b, double v) {
    char buf[64];
    if (isnan(v)) return puts_(b, "NaN");
    if (isinf(v)) return puts_(b, v > 0 ? "Infinity" : "-Infinity");
    int prec;
    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (prec == 17) snprintf(buf, sizeof buf, "%.16e", v);
    /* buf = [-]d.ddde[+-]XX */
    char *e = strchr(buf, 'e');
    int exp10 = atoi(e + 1);
    *e = 0;
    char digits[32];
    size_t nd = 0;
    bool neg = buf[0] == '-';
    for (char *p = buf + neg; *p; p++)
        if (*p != '.') digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--; /* %.Ne may pad */
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

/* ---- Python str.strip() --------------------------------------------------------------------------- */

static bool py_isspace(uint32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Decodes the UTF-8 character at s[0..n); returns its length, 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    unsigned c = s[0];
    size_t len;
    uint32_t v;
    if (c < 0x80) return *cp = c, 1;
    else if ((c & 0xe0) == 0xc0) len = 2, v = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) len = 3, v = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) len = 4, v = c & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

void mmx_py_strip(const char *s, size_t n, size_t *start, size_t *len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t a = 0, z = n, k;
    uint32_t cp;
    while (a < z && (k = utf8_decode(u + a, z - a, &cp)) && py_isspace(cp)) a += k;
    while (z > a) {
        size_t lead = z - 1;
        while (lead > a && z - lead < 4 && (u[lead] & 0xc0) == 0x80) lead--;
        k = utf8_decode(u + lead, z - lead, &cp);
        if (k != z - lead || !py_isspace(cp)) break;
        z = lead;
    }
    *start = a;
    *len = z - a;
}

static void put_stripped(sbuf *b, const char *s, size_t n) {
    size_t a, l;
    mmx_py_strip(s, n, &a, &l);
    put(b, s + a, l);
}

/* ---- kinds ------------------------------------------------------------------------------------- */

const char *mmx_chat_kind_name(mmx_chat_kind k) {
    if (k == MMX_CHAT_TEXT01) return "text01";
    if (k == MMX_CHAT_VLLM) return "vllm";
    if (k == MMX_CHAT_LLAMACPP) return "llamacpp";
    return "m1";
}

bool mmx_chat_kind_parse(const char *name, mmx_chat_kind *out) {
    if (!strcmp(name, "m1")) *out = MMX_CHAT_M1;
    else if (!strcmp(name, "text01")) *out = MMX_CHAT_TEXT01;
    else if (!strcmp(name, "vllm")) *out = MMX_CHAT_VLLM;
    else if (!strcmp(name, "llamacpp")) *out = MMX_CHAT_LLAMACPP;
    else return false;
    return true;
}

mmx_chat_kind mmx_chat_detect(const char *tmpl, const char *arch) {
    if (tmpl) {
        if (strstr(tmpl, "ai name=MiniMax AI")) return MMX_CHAT_VLLM;
        /* the vLLM template's structure with the official names: llama.cpp's MiniMax-M1.jinja */
        if (strstr(tmpl, "ai_setting=assistant") && (strstr(tmpl, "custom_tools") || strstr(tmpl, "'tool_calls' in message")))
            return MMX_CHAT_LLAMACPP;
        if (strstr(tmpl, "ai_setting=assistant")) return MMX_CHAT_M1;
    }
    if (arch && strstr(arch, "Text01")) return MMX_CHAT_TEXT01;
    return MMX_CHAT_M1;
}

mmx_chat_options mmx_chat_default_options(void) { return (mmx_chat_options){.add_generation_prompt = true}; }

/* ---- input checks ---------------------------------------------------------------------------------- */

#define BOD "<begin_of_document>"
#define BOS "<beginning_of_sentence>"
#define EOS "<end_of_sentence>"
#define VLLM_DEFAULT_SYSTEM "You are a helpful assistant created by Minimax based on MiniMax-M1 model."

static const char *role_of(const json_t *m) { return json_string_value(json_object_get(m, "role")); }
static bool is_role(const json_t *m, const char *r) { return !strcmp(role_of(m), r); }

/* A content is absent/null, a string, or a list of part objects whose type, text and name (when
 * present) are strings. */
static mmx_status check_content(const json_t *content, size_t mi, mmx_error *err) {
    if (!content || json_is_null(content) || json_is_string(content)) return MMX_OK;
    if (!json_is_array(content))
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content must be a string or a list of parts", mi);
    size_t i;
    json_t *part;
    json_array_foreach(content, i, part) {
        if (!json_is_object(part))
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content[%zu] is not an object", mi, i);
        static const char *const fields[] = {"type", "text", "name"};
        for (size_t f = 0; f < 3; f++) {
            const json_t *v = json_object_get(part, fields[f]);
            if (v && !json_is_string(v))
                return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content[%zu].%s must be a string", mi, i,
                                fields[f]);
        }
    }
    return MMX_OK;
}

/* Content the template requires (system/user): present, and when a list, a first part with text. */
static mmx_status need_first_text(const json_t *content, size_t mi, mmx_error *err) {
    if (!content || json_is_null(content))
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content is missing", mi);
    if (json_is_array(content)) {
        if (json_array_size(content) == 0)
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content is an empty list (the template reads its first part)", mi);
        if (!json_is_string(json_object_get(json_array_get(content, 0), "text")))
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content[0].text must be a string", mi);
    }
    return MMX_OK;
}

/* The text of part 0 (list) or the string itself (checked by need_first_text). */
static const json_t *first_text(const json_t *content) {
    return json_is_string(content) ? content : json_object_get(json_array_get(content, 0), "text");
}

static bool part_is_text(const json_t *part) {
    const char *t = json_string_value(json_object_get(part, "type"));
    return t && !strcmp(t, "text");
}

/* The tool_calls of a message as the templates see them after vLLM's preprocessing: NULL when
 * absent, null or empty. */
static mmx_status get_tool_calls(const json_t *m, size_t mi, const json_t **calls, mmx_error *err) {
    const json_t *c = json_object_get(m, "tool_calls");
    *calls = NULL;
    if (!c || json_is_null(c)) return MMX_OK;
    if (!json_is_array(c)) return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].tool_calls must be a list", mi);
    size_t i;
    json_t *call;
    json_array_foreach(c, i, call) {
        const json_t *fn = json_object_get(call, "function");
        if (!json_is_object(fn) || !json_is_string(json_object_get(fn, "name")))
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].tool_calls[%zu].function.name must be a string", mi, i);
    }
    if (json_array_size(c)) *calls = c;
    return MMX_OK;
}

/* Renders one call: {"name": "N", "arguments": ARGS}\n.  vLLM's preprocessing of arguments: a falsy
 * value (missing, null, "", [], 0, false) becomes {}; a string is parsed as JSON.  raw_name: the
 * vLLM template pastes the name between quotes unescaped; otherwise it is JSON-escaped. */
static mmx_status put_tool_call(sbuf *b, const json_t *call, size_t mi, size_t ci, bool raw_name, mmx_error *err) {
    const json_t *fn = json_object_get(call, "function");
    const json_t *name = json_object_get(fn, "name"), *args = json_object_get(fn, "arguments");
    json_t *parsed = NULL;
    bool falsy = !args || json_is_null(args) || json_is_false(args) || (json_is_string(args) && !json_string_length(args)) ||
                 (json_is_array(args) && !json_array_size(args)) || (json_is_integer(args) && !json_integer_value(args)) ||
                 (json_is_real(args) && json_real_value(args) == 0);
    if (!falsy && json_is_string(args)) {
        json_error_t jerr;
        parsed = json_loadb(json_string_value(args), json_string_length(args), JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!parsed)
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].tool_calls[%zu].function.arguments is not valid JSON: %s", mi,
                            ci, jerr.text);
    }
    if (raw_name) {
        puts_(b, "{\"name\": \"");
        put_json_str(b, name);
        puts_(b, "\", \"arguments\": ");
    } else {
        puts_(b, "{\"name\": ");
        dump_string(b, json_string_value(name), json_string_length(name));
        puts_(b, ", \"arguments\": ");
    }
    if (falsy) puts_(b, "{}");
    else dump(b, parsed ? parsed : args);
    puts_(b, "}\n");
    json_decref(parsed);
    return MMX_OK;
}

static void put_tools(sbuf *b, const json_t *tools, bool vllm) {
    mark(b, BOS);
    puts_(b, "system tool_setting=tools\nYou are provided with these tools:\n<tools>\n");
    size_t i;
    json_t *tool;
    json_array_foreach(tools, i, tool) {
        dump(b, tool);
        puts_(b, "\n");
    }
    puts_(b, "</tools>\n\nIf you need to call tools, please respond with <tool_calls></tool_calls> XML tags, and "
             "provide tool-name and json-object of arguments, following the format below:\n<tool_calls>\n");
    puts_(b, vllm ? "{\"name\": <tool-name>, \"arguments\": <args-json-object>}"
                  : "{name: <tool-name-1>, arguments: <args-json-object-1>}");
    puts_(b, "\n...\n</tool_calls>");
    mark(b, EOS);
    puts_(b, "\n");
}

/* ---- the official M1 template ---------------------------------------------------------------------- */

/* The name of an OpenAI-style tool message (string content): its "name", else the function name of
 * the earlier assistant tool call whose id is its tool_call_id, else "". */
static const json_t *openai_tool_name(const json_t *messages, size_t mi) {
    const json_t *m = json_array_get(messages, mi);
    const json_t *name = json_object_get(m, "name");
    if (json_is_string(name)) return name;
    const char *id = json_string_value(json_object_get(m, "tool_call_id"));
    if (!id) return NULL;
    for (size_t j = mi; j-- > 0;) {
        const json_t *calls = json_object_get(json_array_get(messages, j), "tool_calls");
        for (size_t c = 0; c < json_array_size(calls); c++) {
            const json_t *call = json_array_get(calls, c);
            const char *cid = json_string_value(json_object_get(call, "id"));
            if (cid && !strcmp(cid, id)) return json_object_get(json_object_get(call, "function"), "name");
        }
    }
    return NULL;
}

static mmx_status render_m1(sbuf *b, const json_t *messages, const json_t *tools, const mmx_chat_options *o,
                            mmx_error *err) {
    size_t i;
    json_t *m;
    const char *ai = "ai name=assistant\n";
    json_array_foreach(messages, i, m) {
        const char *r = role_of(m);
        if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant") && strcmp(r, "tool"))
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].role '%.40s' is not system, user, assistant or tool", i, r);
        const json_t *content = json_object_get(m, "content");
        if (!strcmp(r, "system") || !strcmp(r, "user")) {
            mmx_status st = need_first_text(content, i, err);
            if (st != MMX_OK) return st;
        } else if (!strcmp(r, "tool") && (!content || json_is_null(content))) {
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content is missing", i);
        }
        if (o->render_tool_calls && !strcmp(r, "assistant")) {
            const json_t *calls;
            mmx_status st = get_tool_calls(m, i, &calls, err);
            if (st != MMX_OK) return st;
        }
    }
    mark(b, BOD);
    /* system: concatenation of the first text part of every system message */
    size_t sys_start = 0;
    bool any_sys = false;
    json_array_foreach(messages, i, m) {
        if (!is_role(m, "system")) continue;
        if (!any_sys) {
            mark(b, BOS);
            puts_(b, "system ai_setting=assistant\n");
            sys_start = b->n;
            any_sys = true;
        }
        put_json_str(b, first_text(json_object_get(m, "content")));
    }
    if (any_sys) {
        if (b->n == sys_start) {
            /* all system texts empty: the template writes no system block at all */
            b->n = sys_start - strlen(BOS "system ai_setting=assistant\n");
            b->n_marks--;
            if (b->p) b->p[b->n] = 0;
        } else {
            mark(b, EOS);
            puts_(b, "\n");
        }
    }
    if (tools && json_array_size(tools) > 0) put_tools(b, tools, false);
    json_array_foreach(messages, i, m) {
        const json_t *content = json_object_get(m, "content");
        if (is_role(m, "user")) {
            mark(b, BOS);
            puts_(b, "user name=user\n");
            put_json_str(b, first_text(content));
            mark(b, EOS);
            puts_(b, "\n");
        } else if (is_role(m, "assistant")) {
            mark(b, BOS);
            puts_(b, ai);
            size_t text_start = b->n;
            if (json_is_string(content)) {
                put_json_str(b, content);
            } else {
                size_t c;
                json_t *part;
                json_array_foreach(content, c, part) {
                    const json_t *text = json_object_get(part, "text");
                    if (part_is_text(part) && text) put_json_str(b, text);
                }
            }
            const json_t *calls = NULL;
            if (o->render_tool_calls) get_tool_calls(m, i, &calls, NULL); /* checked above */
            if (calls) {
                if (b->n > text_start && b->p[b->n - 1] != '\n') puts_(b, "\n");
                puts_(b, "<tool_calls>\n");
                for (size_t c = 0; c < json_array_size(calls); c++) {
                    mmx_status st = put_tool_call(b, json_array_get(calls, c), i, c, false, err);
                    if (st != MMX_OK) return st;
                }
                puts_(b, "</tool_calls>");
            }
            mark(b, EOS);
            puts_(b, "\n");
        } else if (is_role(m, "tool")) {
            mark(b, BOS);
            puts_(b, "tool name=tools\n");
            if (json_is_string(content)) {
                /* OpenAI tool message: one result */
                const json_t *name = openai_tool_name(messages, i);
                puts_(b, "tool name: ");
                if (name) put_json_str(b, name);
                puts_(b, "\ntool result: ");
                put_json_str(b, content);
                puts_(b, "\n\n");
            } else {
                size_t c;
                json_t *part;
                json_array_foreach(content, c, part) {
                    const json_t *name = json_object_get(part, "name"), *text = json_object_get(part, "text");
                    puts_(b, "tool name: ");
                    if (name) put_json_str(b, name);
                    puts_(b, "\ntool result: ");
                    if (text) put_json_str(b, text);
                    puts_(b, "\n\n");
                }
            }
            mark(b, EOS);
            puts_(b, "\n");
        }
    }
    if (o->add_generation_prompt) {
        mark(b, BOS);
        puts_(b, ai);
    }
    return MMX_OK;
}

/* ---- the vLLM / llama.cpp template ----------------------------------------------------------------- */

/* Trimmed text parts (or the trimmed string) concatenated. */
static void put_text_parts_stripped(sbuf *b, const json_t *content) {
    if (json_is_string(content)) return put_stripped(b, json_string_value(content), json_string_length(content));
    size_t c;
    json_t *part;
    json_array_foreach(content, c, part) {
        const json_t *text = json_object_get(part, "text");
        if (part_is_text(part) && text) put_stripped(b, json_string_value(text), json_string_length(text));
    }
}

static mmx_status render_vllm(sbuf *b, const json_t *messages, const json_t *tools, const mmx_chat_options *o,
                              const char *ai_name, mmx_error *err) {
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m) {
        const char *r = role_of(m);
        if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant") && strcmp(r, "tool") && strcmp(r, "ipython"))
            return mmx_fail(err, MMX_ERR_INVALID_ARG,
                            "messages[%zu].role '%.40s' is not system, user, assistant, tool or ipython", i, r);
        const json_t *calls, *content = json_object_get(m, "content");
        mmx_status st = get_tool_calls(m, i, &calls, err);
        if (st != MMX_OK) return st;
        if (i == 0 && !strcmp(r, "system")) st = need_first_text(content, i, err);
        else if (!calls && (!strcmp(r, "user") || !strcmp(r, "tool") || !strcmp(r, "ipython")) && (!content || json_is_null(content)))
            st = mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].content is missing", i);
        if (st != MMX_OK) return st;
    }
    mark(b, BOD);
    size_t start = 0;
    const json_t *m0 = json_array_get(messages, 0);
    size_t sys_start = b->n;
    mark(b, BOS);
    puts_(b, "system ai_setting=");
    puts_(b, ai_name);
    puts_(b, "\n");
    size_t text_start = b->n;
    if (m0 && is_role(m0, "system")) {
        const json_t *t = first_text(json_object_get(m0, "content"));
        put_stripped(b, json_string_value(t), json_string_length(t));
        start = 1;
    } else {
        puts_(b, VLLM_DEFAULT_SYSTEM);
    }
    if (b->n == text_start) {
        b->n = sys_start; /* an empty system prompt: no system block */
        b->n_marks--;
        if (b->p) b->p[b->n] = 0;
    } else {
        mark(b, EOS);
        puts_(b, "\n");
    }
    if (tools) put_tools(b, tools, true);
    for (i = start; i < json_array_size(messages); i++) {
        m = json_array_get(messages, i);
        const char *r = role_of(m);
        const json_t *calls, *content = json_object_get(m, "content");
        get_tool_calls(m, i, &calls, NULL); /* checked above */
        bool tool = !strcmp(r, "tool") || !strcmp(r, "ipython");
        if (!tool && !calls) {
            if (!strcmp(r, "user") || !strcmp(r, "assistant")) {
                mark(b, BOS);
                if (!strcmp(r, "user")) {
                    puts_(b, "user name=user\n");
                } else {
                    puts_(b, "ai name=");
                    puts_(b, ai_name);
                    puts_(b, "\n");
                }
                if (content) put_text_parts_stripped(b, content);
                mark(b, EOS);
                puts_(b, "\n");
            } /* later system messages: dropped by the template */
        } else if (calls) {
            mark(b, BOS);
            puts_(b, "ai name=");
            puts_(b, ai_name);
            puts_(b, "\n<tool_calls>\n");
            for (size_t c = 0; c < json_array_size(calls); c++) {
                mmx_status st = put_tool_call(b, json_array_get(calls, c), i, c, true, err);
                if (st != MMX_OK) return st;
            }
            puts_(b, "</tool_calls>");
            mark(b, EOS);
            puts_(b, "\n");
        } else {
            mark(b, BOS);
            puts_(b, "tool name=tools\n");
            if (json_is_string(content)) {
                puts_(b, "tool result: ");
                put_json_str(b, content);
                puts_(b, "\n\n");
            } else {
                size_t c;
                json_t *part;
                json_array_foreach(content, c, part) {
                    const json_t *name = json_object_get(part, "name"), *text = json_object_get(part, "text");
                    if (part_is_text(part)) {
                        puts_(b, "tool result: ");
                    } else if (name && json_string_length(name)) {
                        puts_(b, "tool name: ");
                        put_json_str(b, name);
                        puts_(b, "\ntool result: ");
                    } else {
                        continue;
                    }
                    if (text) put_json_str(b, text);
                    puts_(b, "\n\n");
                }
            }
            mark(b, EOS);
            puts_(b, "\n");
        }
    }
    if (o->add_generation_prompt) {
        mark(b, BOS);
        puts_(b, "ai name=");
        puts_(b, ai_name);
        puts_(b, "\n");
    }
    return MMX_OK;
}

/* ---- entry points ---------------------------------------------------------------------------------- */

mmx_status mmx_chat_render_opts(mmx_chat_kind kind, const json_t *messages, const json_t *tools,
                                const mmx_chat_options *opts, char **out, size_t *out_len, size_t **marks,
                                size_t *n_marks, mmx_error *err) {
    *out = NULL;
    *out_len = 0;
    if (marks) *marks = NULL, *n_marks = 0;
    mmx_chat_options o = opts ? *opts : mmx_chat_default_options();
    if ((int)kind < 0 || (int)kind >= MMX_CHAT_N_KINDS)
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "unknown chat template kind %d", (int)kind);
    if (!json_is_array(messages)) return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages must be a JSON array");
    if (tools && json_is_null(tools)) tools = NULL;
    if (tools && !json_is_array(tools)) return mmx_fail(err, MMX_ERR_INVALID_ARG, "tools must be a JSON array");
    size_t i;
    json_t *m;
    json_array_foreach(tools, i, m) {
        if (!json_is_object(m)) return mmx_fail(err, MMX_ERR_INVALID_ARG, "tools[%zu] is not an object", i);
    }
    json_array_foreach(messages, i, m) {
        if (!json_is_object(m)) return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu] is not an object", i);
        if (!json_is_string(json_object_get(m, "role")))
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages[%zu].role is missing or not a string", i);
        mmx_status st = check_content(json_object_get(m, "content"), i, err);
        if (st != MMX_OK) return st;
    }
    sbuf b = {0};
    mmx_status st;
    if (kind == MMX_CHAT_VLLM) st = render_vllm(&b, messages, tools, &o, "MiniMax AI", err);
    else if ((int)kind == MMX_CHAT_LLAMACPP) st = render_vllm(&b, messages, tools, &o, "assistant", err);
    else st = render_m1(&b, messages, tools, &o, err);
    if (st == MMX_OK && b.oom) st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory rendering the chat prompt");
    if (st != MMX_OK) {
        free(b.p);
        free(b.marks);
        return st;
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

mmx_status mmx_chat_render_marked(mmx_chat_kind kind, const json_t *messages, const json_t *tools, bool add_gen,
                                  char **out, size_t *out_len, size_t **marks, size_t *n_marks, mmx_error *err) {
    mmx_chat_options o = mmx_chat_default_options();
    o.add_generation_prompt = add_gen;
    return mmx_chat_render_opts(kind, messages, tools, &o, out, out_len, marks, n_marks, err);
}

mmx_status mmx_chat_render(mmx_chat_kind kind, const json_t *messages, const json_t *tools, bool add_gen, char **out,
                           size_t *out_len, mmx_error *err) {
    return mmx_chat_render_marked(kind, messages, tools, add_gen, out, out_len, NULL, NULL, err);
}

mmx_status mmx_chat_tokenize(const mmx_tokenizer *tok, const char *text, size_t len, const size_t *marks, size_t n_marks,
                             int32_t **ids, size_t *n_ids, mmx_error *err) {
    static const char *const specials[] = {BOD, BOS, EOS};
    int32_t special_ids[3];
    for (size_t s = 0; s < 3; s++) special_ids[s] = mmx_tokenizer_find(tok, specials[s]);
    *ids = NULL;
    *n_ids = 0;
    size_t cap = len + 16, n = 0, pos = 0;
    int32_t *out = malloc(cap * sizeof *out);
    if (!out) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k <= n_marks; k++) {
        size_t end = k < n_marks ? marks[k] : len, got;
        MMX_ASSERT(end >= pos && end <= len);
        /* user and tool text between the template's markers: never parsed for special tokens */
        mmx_status st = mmx_tokenizer_encode(tok, text + pos, end - pos, false, out + n, cap - n, &got, err);
        if (st != MMX_OK || got > cap - n) {
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
                id = special_ids[s];
                ml = l;
            }
        }
        if (id < 0) {
            free(out);
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "the tokenizer has no token for the chat marker at byte %zu", end);
        }
        if (n == cap) {
            free(out);
            return mmx_fail(err, MMX_ERR_NOMEM, "prompt token buffer too small");
        }
        out[n++] = id;
        pos = end + ml;
    }
    *ids = out;
    *n_ids = n;
    return MMX_OK;
}

/* ---- JSON-text API -------------------------------------------------------------------------------- */

static mmx_status parse_inputs(const char *messages_json, const char *tools_json, json_t **m, json_t **t,
                               mmx_error *err) {
    json_error_t jerr;
    *t = NULL;
    if (!messages_json) return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages: no JSON text given");
    *m = json_loads(messages_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!*m)
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "messages: bad JSON at line %d column %d: %s", jerr.line, jerr.column,
                        jerr.text);
    if (tools_json && !(*t = json_loads(tools_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr))) {
        json_decref(*m);
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "tools: bad JSON at line %d column %d: %s", jerr.line, jerr.column,
                        jerr.text);
    }
    return MMX_OK;
}

mmx_status mmx_chat_render_json_opts(mmx_chat_kind kind, const char *messages_json, const char *tools_json,
                                     const mmx_chat_options *opts, char **out, size_t *out_len, mmx_error *err) {
    json_t *m, *t;
    *out = NULL;
    *out_len = 0;
    mmx_status st = parse_inputs(messages_json, tools_json, &m, &t, err);
    if (st != MMX_OK) return st;
    st = mmx_chat_render_opts(kind, m, t, opts, out, out_len, NULL, NULL, err);
    json_decref(m);
    json_decref(t);
    return st;
}

mmx_status mmx_chat_render_json(mmx_chat_kind kind, const char *messages_json, const char *tools_json, bool add_gen,
                                char **out, size_t *out_len, mmx_error *err) {
    mmx_chat_options o = mmx_chat_default_options();
    o.add_generation_prompt = add_gen;
    return mmx_chat_render_json_opts(kind, messages_json, tools_json, &o, out, out_len, err);
}

mmx_status mmx_chat_tokenize_json(const mmx_tokenizer *tok, mmx_chat_kind kind, const char *messages_json,
                                  const char *tools_json, bool add_gen, int32_t **ids, size_t *n_ids, mmx_error *err) {
    json_t *m, *t;
    *ids = NULL;
    *n_ids = 0;
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
