/*
 * loader.c — opens a model source: an HF directory (config.json + safetensors shards, with or
 * without model.safetensors.index.json) or a GGUF file, and presents its tensors by name.
 * Everything is memory-mapped by the parsers; nothing is copied here.
 */
#include "gguf.h"
#include "mapfile.h"
#include "model.h"
#include "safetensors.h"
#include "strmap.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct mmx_model_file {
    mmx_source_kind kind;
    /* HF */
    json_t *config;
    mmx_st **shards;
    char **shard_paths;
    size_t n_shards;
    /* GGUF */
    mmx_gguf *gguf;
    char *gguf_path;
    /* all tensors, by name -> const mmx_tensor* */
    mmx_strmap by_name;
    const mmx_tensor **all;
    size_t n_all;
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Shard file names from model.safetensors.index.json (weight_map values, deduplicated, sorted),
 * or every *.safetensors in the directory when there is no index. */
static mmx_status list_shards(const char *dir, char ***out, size_t *n_out, mmx_error *err) {
    char **names = NULL;
    size_t n = 0, cap = 0;
    mmx_status st = MMX_OK;
    char *index_path = path_join(dir, "model.safetensors.index.json");
    if (!index_path) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    struct stat sb;
    if (stat(index_path, &sb) == 0) {
        json_error_t jerr;
        json_t *idx = json_load_file(index_path, JSON_REJECT_DUPLICATES, &jerr);
        if (!idx) {
            st = mmx_fail(err, MMX_ERR_FORMAT, "%s: bad JSON at line %d column %d: %s", index_path, jerr.line,
                          jerr.column, jerr.text);
            goto done;
        }
        json_t *map = json_object_get(idx, "weight_map");
        if (!json_is_object(map)) {
            json_decref(idx);
            st = mmx_fail(err, MMX_ERR_FORMAT, "%s: field 'weight_map' missing or not an object", index_path);
            goto done;
        }
        const char *key;
        json_t *val;
        json_object_foreach(map, key, val) {
            const char *file = json_string_value(val);
            if (!file || strchr(file, '/') || !strcmp(file, "..")) {
                json_decref(idx);
                st = mmx_fail(err, MMX_ERR_FORMAT, "%s: weight_map entry '%s' is not a plain file name", index_path,
                              key);
                goto done;
            }
            bool dup = false;
            for (size_t i = 0; i < n && !dup; i++) dup = !strcmp(names[i], file);
            if (dup) continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                char **nn = realloc(names, cap * sizeof *names);
                if (!nn) {
                    json_decref(idx);
                    st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
                    goto done;
                }
                names = nn;
            }
            names[n++] = strdup(file);
        }
        json_decref(idx);
    } else {
        DIR *d = opendir(dir);
        if (!d) {
            st = mmx_fail(err, MMX_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
            goto done;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!ends_with(de->d_name, ".safetensors")) continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                char **nn = realloc(names, cap * sizeof *names);
                if (!nn) {
                    closedir(d);
                    st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
                    goto done;
                }
                names = nn;
            }
            names[n++] = strdup(de->d_name);
        }
        closedir(d);
    }
    for (size_t i = 0; i < n; i++)
        if (!names[i]) st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    if (st == MMX_OK && n == 0) st = mmx_fail(err, MMX_ERR_MODEL, "%s: no .safetensors files found", dir);
    if (st == MMX_OK) qsort(names, n, sizeof *names, cmp_str);
done:
    free(index_path);
    if (st != MMX_OK) {
        for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
        names = NULL;
        n = 0;
    }
    *out = names;
    *n_out = n;
    return st;
}

static mmx_status index_tensor(mmx_model_file *f, const mmx_tensor *t, const char *origin, mmx_error *err) {
    bool existed;
    if (!mmx_strmap_put(&f->by_name, t->name, (void *)t, &existed))
        return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    if (existed) {
        const mmx_tensor *first = mmx_strmap_get(&f->by_name, t->name);
        return mmx_fail(err, MMX_ERR_MODEL, "%s: tensor '%s' is also in %s", origin, t->name,
                        mmx_model_file_origin(f, first));
    }
    f->all[f->n_all++] = t;
    return MMX_OK;
}

static mmx_status open_hf(const char *dir, mmx_model_file *f, mmx_error *err) {
    mmx_status st;
    char *cfg_path = path_join(dir, "config.json");
    if (!cfg_path) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    json_error_t jerr;
    FILE *cf = fopen(cfg_path, "rb");
    if (!cf) {
        st = mmx_fail(err, MMX_ERR_IO, "%s: cannot open: %s", cfg_path, strerror(errno));
        free(cfg_path);
        return st;
    }
    f->config = json_loadf(cf, JSON_REJECT_DUPLICATES, &jerr);
    fclose(cf);
    if (!f->config || !json_is_object(f->config)) {
        st = f->config ? mmx_fail(err, MMX_ERR_FORMAT, "%s: top level is not a JSON object", cfg_path)
                       : mmx_fail(err, MMX_ERR_FORMAT, "%s: bad JSON at line %d column %d: %s", cfg_path, jerr.line,
                                  jerr.column, jerr.text);
        free(cfg_path);
        return st;
    }
    free(cfg_path);

    char **names = NULL;
    st = list_shards(dir, &names, &f->n_shards, err);
    if (st != MMX_OK) return st;
    f->shards = calloc(f->n_shards, sizeof *f->shards);
    f->shard_paths = calloc(f->n_shards, sizeof *f->shard_paths);
    if (!f->shards || !f->shard_paths) {
        for (size_t i = 0; i < f->n_shards; i++) free(names[i]);
        free(names);
        return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    }
    size_t total = 0;
    for (size_t i = 0; i < f->n_shards; i++) {
        f->shard_paths[i] = path_join(dir, names[i]);
        free(names[i]);
        names[i] = NULL;
        if (!f->shard_paths[i]) st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
        if (st == MMX_OK) st = mmx_st_open(f->shard_paths[i], &f->shards[i], err);
        if (st == MMX_OK) total += mmx_st_n_tensors(f->shards[i]);
    }
    free(names);
    if (st != MMX_OK) return st;
    f->all = calloc(total ? total : 1, sizeof *f->all);
    if (!f->all || !mmx_strmap_init(&f->by_name, total)) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f->n_shards; i++)
        for (size_t j = 0; j < mmx_st_n_tensors(f->shards[i]); j++) {
            st = index_tensor(f, mmx_st_tensor(f->shards[i], j), f->shard_paths[i], err);
            if (st != MMX_OK) return st;
        }
    return MMX_OK;
}

static mmx_status open_gguf(const char *path, mmx_model_file *f, mmx_error *err) {
    f->gguf_path = strdup(path);
    if (!f->gguf_path) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    mmx_status st = mmx_gguf_open(path, &f->gguf, err);
    if (st != MMX_OK) return st;
    size_t n = mmx_gguf_n_tensors(f->gguf);
    f->all = calloc(n ? n : 1, sizeof *f->all);
    if (!f->all || !mmx_strmap_init(&f->by_name, n)) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        st = index_tensor(f, mmx_gguf_tensor(f->gguf, i), path, err);
        if (st != MMX_OK) return st;
    }
    return MMX_OK;
}

mmx_status mmx_model_file_open(const char *path, mmx_model_file **out, mmx_error *err) {
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) return mmx_fail(err, MMX_ERR_IO, "%s: %s", path, strerror(errno));
    mmx_model_file *f = calloc(1, sizeof *f);
    if (!f) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    mmx_status st;
    if (S_ISDIR(sb.st_mode)) {
        f->kind = MMX_SOURCE_HF;
        st = open_hf(path, f, err);
    } else {
        f->kind = MMX_SOURCE_GGUF;
        st = open_gguf(path, f, err);
    }
    if (st != MMX_OK) {
        mmx_model_file_free(f);
        return st;
    }
    *out = f;
    return MMX_OK;
}

/* Every file of f that is memory-mapped, with its path, in order (GGUF: one; HF: the shards). */
typedef mmx_status (*mapped_file_fn)(mmx_mapfile *m, const char *path, void *arg, mmx_error *err);
static mmx_status each_mapped_file(mmx_model_file *f, mapped_file_fn fn, void *arg, mmx_error *err) {
    if (f->gguf) {
        mmx_mapfile *m = mmx_gguf_mapfile(f->gguf);
        return m ? fn(m, f->gguf_path, arg, err) : MMX_OK;
    }
    for (size_t i = 0; i < f->n_shards; i++) {
        mmx_mapfile *m = mmx_st_mapfile(f->shards[i]);
        mmx_status st = m ? fn(m, f->shard_paths[i], arg, err) : MMX_OK;
        if (st != MMX_OK) return st;
    }
    return MMX_OK;
}

static mmx_status load_one(mmx_mapfile *m, const char *path, void *arg, mmx_error *err) {
    (void)arg;
    return mmx_mapfile_load_hugepages(m, path, err);
}
static mmx_status settle_one(mmx_mapfile *m, const char *path, void *arg, mmx_error *err) {
    (void)arg;
    return mmx_mapfile_settle_hugepages(m, path, err);
}
static mmx_status count_one(mmx_mapfile *m, const char *path, void *arg, mmx_error *err) {
    (void)path, (void)err;
    uint64_t *bytes_huge = arg;
    bytes_huge[0] += m->len;
    bytes_huge[1] += mmx_mapfile_huge_bytes(m);
    return MMX_OK;
}

mmx_status mmx_model_file_load_hugepages(mmx_model_file *f, mmx_error *err) {
    return each_mapped_file(f, load_one, NULL, err);
}

mmx_status mmx_model_file_settle_hugepages(mmx_model_file *f, mmx_error *err) {
    return each_mapped_file(f, settle_one, NULL, err);
}

void mmx_model_file_page_bytes(mmx_model_file *f, uint64_t *bytes, uint64_t *huge) {
    uint64_t bh[2] = {0, 0};
    (void)each_mapped_file(f, count_one, bh, NULL);
    *bytes = bh[0], *huge = bh[1];
}

void mmx_model_file_free(mmx_model_file *f) {
    if (!f) return;
    if (f->config) json_decref(f->config);
    for (size_t i = 0; i < f->n_shards; i++) {
        if (f->shards) mmx_st_free(f->shards[i]);
        if (f->shard_paths) free(f->shard_paths[i]);
    }
    free(f->shards);
    free(f->shard_paths);
    mmx_gguf_free(f->gguf);
    free(f->gguf_path);
    mmx_strmap_free(&f->by_name);
    free(f->all);
    free(f);
}

mmx_source_kind mmx_model_file_kind(const mmx_model_file *f) { return f->kind; }
const mmx_tensor *mmx_model_file_find(const mmx_model_file *f, const char *name) {
    return mmx_strmap_get(&f->by_name, name);
}
json_t *mmx_model_file_config_json(const mmx_model_file *f) { return f->config; }
mmx_gguf *mmx_model_file_gguf(const mmx_model_file *f) { return f->gguf; }
size_t mmx_model_file_n_tensors(const mmx_model_file *f) { return f->n_all; }
const mmx_tensor *mmx_model_file_tensor(const mmx_model_file *f, size_t i) { return f->all[i]; }

const char *mmx_model_file_origin(const mmx_model_file *f, const mmx_tensor *t) {
    if (f->kind == MMX_SOURCE_GGUF) return f->gguf_path;
    for (size_t i = 0; i < f->n_shards; i++)
        for (size_t j = 0; j < mmx_st_n_tensors(f->shards[i]); j++)
            if (mmx_st_tensor(f->shards[i], j) == t) return f->shard_paths[i];
    return "?";
}
