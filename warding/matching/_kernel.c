/*
 * Compiled kernel of Warding's Hamming index (multi-index hashing).
 *
 * Codes are fixed-length bit strings stored as `words` native uint64 words each
 * (zero padded). A chunk is a run of `bits` consecutive bit positions of that
 * representation, starting at `off`. For each chunk, a table maps every chunk
 * value (0 .. 2^bits - 1) to the positions of the codes holding that value:
 * `offsets` (2^bits + 1 uint32) and `ids` (n uint32), built by a radix sort.
 *
 * A query probes, for every chunk i with t_i >= 0, every chunk value within
 * Hamming distance t_i of the query's chunk value (the caller passes the XOR
 * masks), and checks each candidate's full distance. The generalised
 * pigeonhole principle makes this exact when sum(t_i) >= r - m + 1: a code
 * within distance r of the query has d_i <= t_i in at least one chunk. A
 * candidate is reported only from the first chunk that can find it, so no
 * result is reported twice and no result buffer needs sorting.
 *
 * The Python side (warding/matching/kernel.py) implements exactly the same
 * functions with numpy; the tests check that both give the same answers.
 *
 * No allocation per candidate: result buffers grow geometrically. The GIL is
 * released around every loop, so Python threads can query in parallel.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
/* One build for every x86-64 machine: the hot loops get a POPCNT clone chosen at load time. */
#define HOT __attribute__((target_clones("popcnt", "default")))
#else
#define HOT
#endif

typedef struct {
    int32_t *q;
    uint32_t *pos;
    int16_t *dist;
    Py_ssize_t len, cap;
    int failed;
} hits_t;

static int hits_push(hits_t *h, int32_t q, uint32_t pos, int16_t d) {
    if (h->len == h->cap) {
        Py_ssize_t cap = h->cap ? h->cap * 2 : 1024;
        int32_t *nq = realloc(h->q, (size_t)cap * sizeof(int32_t));
        if (nq) h->q = nq;
        uint32_t *np_ = realloc(h->pos, (size_t)cap * sizeof(uint32_t));
        if (np_) h->pos = np_;
        int16_t *nd = realloc(h->dist, (size_t)cap * sizeof(int16_t));
        if (nd) h->dist = nd;
        if (!nq || !np_ || !nd) {
            h->failed = 1;
            return -1;
        }
        h->cap = cap;
    }
    h->q[h->len] = q;
    h->pos[h->len] = pos;
    h->dist[h->len] = d;
    h->len++;
    return 0;
}

static void hits_free(hits_t *h) {
    free(h->q);
    free(h->pos);
    free(h->dist);
}

static PyObject *hits_result(hits_t *h) {
    if (h->failed) {
        hits_free(h);
        return PyErr_NoMemory();
    }
    PyObject *a = PyBytes_FromStringAndSize((const char *)h->q, h->len * (Py_ssize_t)sizeof(int32_t));
    PyObject *b = PyBytes_FromStringAndSize((const char *)h->pos, h->len * (Py_ssize_t)sizeof(uint32_t));
    PyObject *c = PyBytes_FromStringAndSize((const char *)h->dist, h->len * (Py_ssize_t)sizeof(int16_t));
    hits_free(h);
    if (!a || !b || !c) {
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_XDECREF(c);
        return NULL;
    }
    PyObject *t = PyTuple_Pack(3, a, b, c);
    Py_DECREF(a);
    Py_DECREF(b);
    Py_DECREF(c);
    return t;
}

static inline uint32_t extract(const uint64_t *w, int off, int nbits) {
    int wi = off >> 6, sh = off & 63;
    uint64_t v = w[wi] >> sh;
    if (sh + nbits > 64) v |= w[wi + 1] << (64 - sh);
    return (uint32_t)(v & ((nbits >= 64) ? ~0ULL : ((1ULL << nbits) - 1)));
}

HOT static int distance(const uint64_t *a, const uint64_t *b, int words) {
    int d = 0;
    for (int k = 0; k < words; k++) d += __builtin_popcountll(a[k] ^ b[k]);
    return d;
}

HOT static int chunk_distance(const uint64_t *a, const uint64_t *b, int off, int nbits) {
    return __builtin_popcount(extract(a, off, nbits) ^ extract(b, off, nbits));
}

/* Buffers are checked by the Python wrapper (dtype, contiguity, sizes); here only lengths. */
static int get_buf(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t min_len, const char *name) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0) return -1;
    if (view->len < min_len) {
        PyErr_Format(PyExc_ValueError, "%s: buffer of %zd bytes, need %zd", name, view->len, min_len);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* Stable LSD radix sort of (chunk value, position) pairs in one or two passes of at most 15
 * bits (a few thousand write streams: cache friendly, unlike a one-pass counting sort into
 * millions of buckets), then bucket offsets from one sequential pass. */
static int sort_chunk(const uint64_t *c, Py_ssize_t n, int words, int off, int bits, uint32_t *o,
                      uint32_t *id) {
    size_t nkeys = (size_t)1 << bits;
    uint64_t *a = malloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
    uint64_t *b = malloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
    int digit = getenv("WD_DIGIT") ? atoi(getenv("WD_DIGIT")) : (bits <= 12 ? bits : (bits + 1) / 2);
    size_t nd = (size_t)1 << digit;
    size_t *count = malloc(nd * sizeof(size_t));
    if (!a || !b || !count) {
        free(a);
        free(b);
        free(count);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) a[i] = ((uint64_t)extract(c + i * words, off, bits) << 32) | (uint64_t)i;
    for (int shift = 32; shift < 32 + bits; shift += digit) {
        uint64_t mask = nd - 1;
        memset(count, 0, nd * sizeof(size_t));
        for (Py_ssize_t i = 0; i < n; i++) count[(a[i] >> shift) & mask]++;
        size_t sum = 0;
        for (size_t k = 0; k < nd; k++) {
            size_t v = count[k];
            count[k] = sum;
            sum += v;
        }
        for (Py_ssize_t i = 0; i < n; i++) b[count[(a[i] >> shift) & mask]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    memset(o, 0, (nkeys + 1) * sizeof(uint32_t));
    for (Py_ssize_t i = 0; i < n; i++) {
        o[(a[i] >> 32) + 1]++;
        id[i] = (uint32_t)a[i];
    }
    for (size_t k = 1; k <= nkeys; k++) o[k] += o[k - 1];
    free(a);
    free(b);
    free(count);
    return 0;
}

/* build_chunk(codes, n, words, off, bits, offsets_out, ids_out) */
static PyObject *build_chunk(PyObject *self, PyObject *args) {
    PyObject *o_codes, *o_off, *o_ids;
    Py_ssize_t n;
    int words, off, bits;
    if (!PyArg_ParseTuple(args, "OniiiOO", &o_codes, &n, &words, &off, &bits, &o_off, &o_ids)) return NULL;
    if (bits < 1 || bits > 30 || off < 0 || off + bits > words * 64 || n < 0 || n > 0xFFFFFFFFLL) {
        PyErr_SetString(PyExc_ValueError, "bad chunk");
        return NULL;
    }
    Py_buffer codes, offs, ids;
    size_t nkeys = (size_t)1 << bits;
    if (get_buf(o_codes, &codes, 0, n * words * 8, "codes") < 0) return NULL;
    if (get_buf(o_off, &offs, 1, (Py_ssize_t)(nkeys + 1) * 4, "offsets") < 0) {
        PyBuffer_Release(&codes);
        return NULL;
    }
    if (get_buf(o_ids, &ids, 1, n * 4, "ids") < 0) {
        PyBuffer_Release(&codes);
        PyBuffer_Release(&offs);
        return NULL;
    }
    const uint64_t *c = codes.buf;
    uint32_t *o = offs.buf, *id = ids.buf;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    failed = sort_chunk(c, n, words, off, bits, o, id);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyBuffer_Release(&codes);
        PyBuffer_Release(&offs);
        PyBuffer_Release(&ids);
        return PyErr_NoMemory();
    }
    PyBuffer_Release(&codes);
    PyBuffer_Release(&offs);
    PyBuffer_Release(&ids);
    Py_RETURN_NONE;
}

typedef struct {
    const uint64_t *codes;
    const uint8_t *alive;
    int words;
    Py_ssize_t n;
    int m;
    const int32_t *coff, *cbits, *t;
    const int64_t *tab_off; /* start of chunk i's offsets in `offsets` */
    const uint32_t *offsets, *ids; /* ids: chunk i at i * n */
    const uint32_t *masks;
    const int64_t *mstart, *mcount;
} mih_t;

#define PREFETCH 12

/* Per-thread scratch: candidate positions of one query, and where each chunk's run ends. */
typedef struct {
    uint32_t *cand;
    Py_ssize_t len, cap;
} scratch_t;

static int scratch_fit(scratch_t *s, Py_ssize_t extra) {
    if (s->len + extra <= s->cap) return 0;
    Py_ssize_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + extra) cap *= 2;
    uint32_t *c = realloc(s->cand, (size_t)cap * sizeof(uint32_t));
    if (!c) return -1;
    s->cand = c;
    s->cap = cap;
    return 0;
}

HOT static void mih_run(const mih_t *x, const uint64_t *queries, Py_ssize_t nq, int r, hits_t *h) {
    scratch_t s = {0};
    int64_t *run_end = malloc(sizeof(int64_t) * (size_t)(x->m > 0 ? x->m : 1));
    if (!run_end) {
        h->failed = 1;
        return;
    }
    for (Py_ssize_t qi = 0; qi < nq && !h->failed; qi++) {
        const uint64_t *q = queries + qi * x->words;
        /* 1. Gather the candidates (sequential reads of the bucket arrays). */
        s.len = 0;
        for (int i = 0; i < x->m; i++) {
            if (x->t[i] >= 0) {
                uint32_t key = extract(q, x->coff[i], x->cbits[i]);
                const uint32_t *o = x->offsets + x->tab_off[i];
                const uint32_t *ids = x->ids + (Py_ssize_t)i * x->n;
                const uint32_t *mk = x->masks + x->mstart[i];
                int64_t count = x->mcount[i];
                for (int64_t k = 0; k < count; k++) {
                    if (k + PREFETCH < count) __builtin_prefetch(o + (key ^ mk[k + PREFETCH]));
                    uint32_t b = key ^ mk[k];
                    uint32_t j = o[b], e = o[b + 1];
                    if (e > j) {
                        if (scratch_fit(&s, e - j) < 0) {
                            h->failed = 1;
                            break;
                        }
                        memcpy(s.cand + s.len, ids + j, (size_t)(e - j) * sizeof(uint32_t));
                        s.len += e - j;
                    }
                }
            }
            run_end[i] = s.len;
        }
        if (h->failed) break;
        /* 2. Check them, prefetching the codes a few candidates ahead. */
        int i = 0;
        for (Py_ssize_t j = 0; j < s.len; j++) {
            while (j >= run_end[i]) i++;
            if (j + PREFETCH < s.len) __builtin_prefetch(x->codes + (Py_ssize_t)s.cand[j + PREFETCH] * x->words);
            uint32_t p = s.cand[j];
            const uint64_t *cand = x->codes + (Py_ssize_t)p * x->words;
            int d = distance(cand, q, x->words);
            if (d > r || !x->alive[p]) continue;
            /* Report only from the first chunk able to find this code. */
            int earlier = 0;
            for (int jj = 0; jj < i && !earlier; jj++)
                if (x->t[jj] >= 0 && chunk_distance(cand, q, x->coff[jj], x->cbits[jj]) <= x->t[jj]) earlier = 1;
            if (!earlier && hits_push(h, (int32_t)qi, p, (int16_t)d) < 0) break;
        }
    }
    free(s.cand);
    free(run_end);
}

/* mih_query(codes, n, words, alive, coff, cbits, t, tab_off, offsets, ids, masks, mstart, mcount,
 *           queries, nq, r) -> (query indexes int32, positions uint32, distances int16) as bytes */
static PyObject *mih_query(PyObject *self, PyObject *args) {
    PyObject *ob[12];
    Py_ssize_t n, nq;
    int words, r;
    if (!PyArg_ParseTuple(args, "OniOOOOOOOOOOOni", &ob[0], &n, &words, &ob[1], &ob[2], &ob[3], &ob[4],
                          &ob[5], &ob[6], &ob[7], &ob[8], &ob[9], &ob[10], &ob[11], &nq, &r))
        return NULL;
    Py_buffer b[12];
    int got = 0;
    Py_ssize_t need[12] = {n * words * 8, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, nq * words * 8};
    for (; got < 12; got++) {
        if (get_buf(ob[got], &b[got], 0, need[got], "mih argument") < 0) break;
    }
    if (got < 12) {
        for (int k = 0; k < got; k++) PyBuffer_Release(&b[k]);
        return NULL;
    }
    mih_t x;
    x.codes = b[0].buf;
    x.alive = b[1].buf;
    x.words = words;
    x.n = n;
    x.m = (int)(b[2].len / 4);
    x.coff = b[2].buf;
    x.cbits = b[3].buf;
    x.t = b[4].buf;
    x.tab_off = b[5].buf;
    x.offsets = b[6].buf;
    x.ids = b[7].buf;
    x.masks = b[8].buf;
    x.mstart = b[9].buf;
    x.mcount = b[10].buf;
    int ok = b[3].len == b[2].len && b[4].len == b[2].len && b[5].len == 2 * b[2].len &&
             b[9].len == 2 * b[2].len && b[10].len == 2 * b[2].len && b[7].len >= (Py_ssize_t)x.m * n * 4;
    for (int i = 0; ok && i < x.m; i++)
        ok = x.cbits[i] >= 1 && x.cbits[i] <= 30 && x.coff[i] >= 0 && x.coff[i] + x.cbits[i] <= words * 64 &&
             x.tab_off[i] >= 0 && (x.tab_off[i] + ((int64_t)1 << x.cbits[i]) + 1) * 4 <= b[6].len &&
             x.mstart[i] >= 0 && x.mcount[i] >= 0 && (x.mstart[i] + x.mcount[i]) * 4 <= b[8].len;
    hits_t h = {0};
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        mih_run(&x, b[11].buf, nq, r, &h);
        Py_END_ALLOW_THREADS
    }
    for (int k = 0; k < 12; k++) PyBuffer_Release(&b[k]);
    if (!ok) {
        hits_free(&h);
        PyErr_SetString(PyExc_ValueError, "inconsistent multi-index tables");
        return NULL;
    }
    return hits_result(&h);
}

HOT static void scan_run(const uint64_t *codes, const uint8_t *alive, Py_ssize_t n, int words,
                         const uint64_t *queries, Py_ssize_t nq, int r, hits_t *h) {
    /* Blocks of codes stay in cache while every query of the batch passes over them. */
    const Py_ssize_t block = 4096;
    for (Py_ssize_t start = 0; start < n && !h->failed; start += block) {
        Py_ssize_t end = start + block < n ? start + block : n;
        for (Py_ssize_t qi = 0; qi < nq; qi++) {
            const uint64_t *q = queries + qi * words;
            for (Py_ssize_t p = start; p < end; p++) {
                int d = distance(codes + p * words, q, words);
                if (d <= r && alive[p] && hits_push(h, (int32_t)qi, (uint32_t)p, (int16_t)d) < 0) return;
            }
        }
    }
}

/* scan(codes, n, words, alive, queries, nq, r) -> same as mih_query, every position checked */
static PyObject *scan(PyObject *self, PyObject *args) {
    PyObject *o_codes, *o_alive, *o_q;
    Py_ssize_t n, nq;
    int words, r;
    if (!PyArg_ParseTuple(args, "OniOOni", &o_codes, &n, &words, &o_alive, &o_q, &nq, &r)) return NULL;
    if (n > 0xFFFFFFFFLL || words < 1) {
        PyErr_SetString(PyExc_ValueError, "bad scan arguments");
        return NULL;
    }
    Py_buffer codes, alive, q;
    if (get_buf(o_codes, &codes, 0, n * words * 8, "codes") < 0) return NULL;
    if (get_buf(o_alive, &alive, 0, n, "alive") < 0) {
        PyBuffer_Release(&codes);
        return NULL;
    }
    if (get_buf(o_q, &q, 0, nq * words * 8, "queries") < 0) {
        PyBuffer_Release(&codes);
        PyBuffer_Release(&alive);
        return NULL;
    }
    hits_t h = {0};
    Py_BEGIN_ALLOW_THREADS
    scan_run(codes.buf, alive.buf, n, words, q.buf, nq, r, &h);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&codes);
    PyBuffer_Release(&alive);
    PyBuffer_Release(&q);
    return hits_result(&h);
}

static PyMethodDef methods[] = {
    {"build_chunk", build_chunk, METH_VARARGS, "Counting-sort one chunk of the codes into bucket tables."},
    {"mih_query", mih_query, METH_VARARGS, "Multi-index hashing search of a batch of queries."},
    {"scan", scan, METH_VARARGS, "Exhaustive search of a batch of queries."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernel",
                                    "Compiled kernel of Warding's Hamming index.", -1, methods};

PyMODINIT_FUNC PyInit__kernel(void) { return PyModule_Create(&module); }
