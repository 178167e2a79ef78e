/*
 * notifier.inspection.datasets._csvscan: counting CSV records exactly as pyarrow's
 * parser would, or not at all, at the speed of memory.
 *
 * RecordScanner keeps the promise of csv_count.RecordCounter (the pure-Python reference
 * of the same rules, see its docstring): it vouches for a count only for a well-formed
 * RFC 4180 text (fields separated by one delimiter, optionally enclosed in double quotes,
 * a quote inside a quoted field written twice, records ended by LF or CRLF, every record
 * with the header's number of fields, every quote where RFC 4180 puts it); anything else
 * makes it give up, and the caller counts with pyarrow from the first byte.
 *
 * The technique is the one of simdjson and simdcsv (Langdale and Lemire, "Parsing
 * gigabytes of JSON per second", VLDB Journal 28, 2019; Geoff Langdale's simdcsv): the
 * text is read 64 bytes at a time into bit masks (quote, delimiter, LF, CR); the mask of
 * bytes inside quotes is the prefix XOR of the quote mask; an opening quote (one that
 * enters a quoted region) must follow a delimiter, an LF, a closing quote (a doubled
 * quote) or the start of the text, and a closing quote must precede a delimiter, a CR,
 * an LF or another quote: that check is what tells a quote opening a field from one
 * inside an unquoted field (5'11"), which pyarrow reads as text and plain quote parity
 * would miscount. Records end at LFs outside quotes; a record's delimiters outside
 * quotes must number num_columns - 1.
 *
 * feed() releases the GIL on large blocks, so that reading the next block (a file, an
 * HTTP response, gzip's inflating thread) runs on another core meanwhile. Memory: the
 * object's few fields; blocks are read in place, never copied.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define GIL_RELEASE_BYTES (64 * 1024)

typedef struct {
    PyObject_HEAD
    uint8_t delim;
    Py_ssize_t extra;          /* delimiters per record outside quotes */
    Py_ssize_t max_row_bytes;  /* longest record vouched for, line end excluded */
    int inside;                /* the next byte is inside a quoted field */
    int prev_ok;               /* the last byte lets a quote open a field next */
    int pending_close;         /* the last byte was a closing quote */
    int cr_pending;            /* the last byte was a CR: the next must be LF */
    int busy;                  /* a feed() is running (the GIL may be released) */
    Py_ssize_t fields;         /* delimiters outside quotes in the record in progress */
    Py_ssize_t since;          /* bytes of the record in progress */
    long long lines;
    const char *reason;
} Scanner;

typedef struct {
    uint64_t quote, delim, lf, cr;
} Masks;

static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* The masks of 64 bytes at p (all readable). */
static inline Masks masks64(const uint8_t *p, uint8_t delim)
{
    Masks m;
#if defined(__SSE2__)
    const __m128i vq = _mm_set1_epi8('"'), vd = _mm_set1_epi8((char)delim);
    const __m128i vl = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r');
    m.quote = m.delim = m.lf = m.cr = 0;
    for (int i = 0; i < 4; i++) {
        __m128i b = _mm_loadu_si128((const __m128i *)(p + 16 * i));
        int s = 16 * i;
        m.quote |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, vq)) << s;
        m.delim |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, vd)) << s;
        m.lf |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, vl)) << s;
        m.cr |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, vr)) << s;
    }
#else
    m.quote = m.delim = m.lf = m.cr = 0;
    for (int i = 0; i < 64; i++) {
        uint64_t bit = (uint64_t)1 << i;
        m.quote |= p[i] == '"' ? bit : 0;
        m.delim |= p[i] == delim ? bit : 0;
        m.lf |= p[i] == '\n' ? bit : 0;
        m.cr |= p[i] == '\r' ? bit : 0;
    }
#endif
    return m;
}

/* Bits 0 .. n-2 of n bytes: those whose next byte is in the same n. */
static inline uint64_t followed_here(int n)
{
    return ((uint64_t)1 << (n - 1)) - 1;
}

static int give_up(Scanner *s, const char *reason)
{
    s->reason = reason;
    return 0;
}

/* Every CR is followed by LF (pyarrow ends a record at a lone CR; one inside quotes is
 * rare enough to leave to pyarrow too). */
static inline int check_crs(Scanner *s, const Masks *m, int n)
{
    if (s->cr_pending && !(m->lf & 1))
        return give_up(s, "a CR not followed by LF");
    if (m->cr & ~(m->lf >> 1) & followed_here(n))
        return give_up(s, "a CR not followed by LF");
    s->cr_pending = (int)((m->cr >> (n - 1)) & 1);
    return 1;
}

/* Quotes only where RFC 4180 puts them (section 2, rules 5-7); returns the mask of
 * bytes inside quotes (an opening quote's bit set, a closing quote's clear), or sets
 * the reason. */
static inline int check_quotes(Scanner *s, const Masks *m, int n, uint64_t *inside)
{
    uint64_t inq = prefix_xor(m->quote) ^ (s->inside ? (uint64_t)-1 : 0);
    uint64_t opening = m->quote & inq, closing = m->quote & ~inq;
    uint64_t may_open = ((m->delim | m->lf | closing) << 1) | (uint64_t)s->prev_ok;
    if (opening & ~may_open)
        return give_up(s, "a quote inside an unquoted field");
    uint64_t may_follow = m->delim | m->cr | m->lf | m->quote;
    if (s->pending_close && !(may_follow & 1))
        return give_up(s, "a closing quote is followed by text");
    if (closing & ~(may_follow >> 1) & followed_here(n))
        return give_up(s, "a closing quote is followed by text");
    s->pending_close = (int)((closing >> (n - 1)) & 1);
    s->inside = (int)((inq >> (n - 1)) & 1);
    *inside = inq;
    return 1;
}

/* Records ended in these n bytes: LFs outside quotes, each after num_columns - 1
 * delimiters outside quotes. */
static inline int count_records(Scanner *s, uint64_t ends, uint64_t delims, int n)
{
    if (!ends) {
        s->fields += __builtin_popcountll(delims);
        s->since += n;
        if (s->since > s->max_row_bytes)
            return give_up(s, "a record is longer than the bound vouched for");
        return 1;
    }
    int start = 0;
    do {
        int at = __builtin_ctzll(ends);
        uint64_t upto = at == 63 ? (uint64_t)-1 : (((uint64_t)2 << at) - 1);
        s->fields += __builtin_popcountll(delims & upto);
        delims &= ~upto;
        if (s->fields != s->extra)
            return give_up(s, "a record with another number of fields, or a blank line");
        if (s->since + (at - start) > s->max_row_bytes)
            return give_up(s, "a record is longer than the bound vouched for");
        s->lines++;
        s->fields = 0;
        s->since = 0;
        start = at + 1;
        ends &= ends - 1;
    } while (ends);
    s->fields = __builtin_popcountll(delims);
    s->since = n - start;
    return 1;
}

/* n (1..64) bytes whose masks are m (bits >= n clear). */
static inline int scan_masks(Scanner *s, const Masks *m, int n)
{
    if ((m->cr || s->cr_pending) && !check_crs(s, m, n))
        return 0;
    uint64_t inq = 0;
    if (m->quote || s->inside || s->pending_close) {
        if (!check_quotes(s, m, n, &inq))
            return 0;
    } else {
        s->prev_ok = (int)(((m->delim | m->lf) >> (n - 1)) & 1);
        return count_records(s, m->lf, m->delim, n);
    }
    uint64_t closing = m->quote & ~inq;
    s->prev_ok = (int)(((m->delim | m->lf | closing) >> (n - 1)) & 1);
    return count_records(s, m->lf & ~inq, m->delim & ~inq, n);
}

static int scan(Scanner *s, const uint8_t *p, Py_ssize_t len)
{
    Py_ssize_t i = 0;
    for (; i + 64 <= len; i += 64) {
        Masks m = masks64(p + i, s->delim);
        if (!scan_masks(s, &m, 64))
            return 0;
    }
    if (i < len) {
        uint8_t tail[64];
        int n = (int)(len - i);
        memset(tail, 0, sizeof tail);
        memcpy(tail, p + i, (size_t)n);
        Masks m = masks64(tail, s->delim); /* the padding (NUL) matches nothing */
        return scan_masks(s, &m, n);
    }
    return 1;
}

static int Scanner_init(Scanner *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"delimiter", "num_columns", "max_row_bytes", NULL};
    const char *delimiter;
    Py_ssize_t delimiter_len, num_columns, max_row_bytes = 8 << 20;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s#n|$n", kwlist, &delimiter, &delimiter_len,
                                     &num_columns, &max_row_bytes))
        return -1;
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "RecordScanner re-initialised during feed");
        return -1;
    }
    if (num_columns < 2) {
        PyErr_SetString(PyExc_ValueError, "RecordScanner needs at least two columns");
        return -1;
    }
    if (delimiter_len != 1 || delimiter[0] == '\0' || (uint8_t)delimiter[0] >= 0x80 || delimiter[0] == '"' ||
        delimiter[0] == '\r' || delimiter[0] == '\n') {
        PyObject *given = PyUnicode_DecodeUTF8(delimiter, delimiter_len, "replace");
        if (given != NULL) {
            PyErr_Format(PyExc_ValueError, "unsupported delimiter %R", given);
            Py_DECREF(given);
        }
        return -1;
    }
    self->delim = (uint8_t)delimiter[0];
    self->extra = num_columns - 1;
    self->max_row_bytes = max_row_bytes;
    self->inside = self->pending_close = self->cr_pending = self->busy = 0;
    self->prev_ok = 1;
    self->fields = self->since = 0;
    self->lines = 0;
    self->reason = NULL;
    return 0;
}

PyDoc_STRVAR(feed_doc,
"feed(block) -> bool\n\n"
"Count the records ended in ``block`` (any bytes-like object, read in place); False\n"
"once the scanner gave up (``reason`` says why).");

static PyObject *Scanner_feed(Scanner *self, PyObject *arg)
{
    if (self->reason != NULL)
        Py_RETURN_FALSE;
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "RecordScanner.feed called from two threads");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int ok;
    self->busy = 1;
    if (view.len >= GIL_RELEASE_BYTES) {
        Py_BEGIN_ALLOW_THREADS
        ok = scan(self, (const uint8_t *)view.buf, view.len);
        Py_END_ALLOW_THREADS
    } else {
        ok = scan(self, (const uint8_t *)view.buf, view.len);
    }
    self->busy = 0;
    PyBuffer_Release(&view);
    return PyBool_FromLong(ok);
}

PyDoc_STRVAR(finish_doc,
"finish() -> int | None\n\n"
"Lines counted (the header included), or None when the scanner cannot vouch for them.");

static PyObject *Scanner_finish(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    if (self->reason == NULL && self->inside)
        give_up(self, "a quote is never closed");
    if (self->reason == NULL && self->cr_pending)
        give_up(self, "a CR not followed by LF");
    if (self->reason == NULL && self->since > 0)
        give_up(self, "the last record has no LF line end");
    if (self->reason != NULL)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(self->lines);
}

static PyObject *Scanner_get_reason(Scanner *self, void *Py_UNUSED(closure))
{
    if (self->reason == NULL)
        Py_RETURN_NONE;
    return PyUnicode_FromString(self->reason);
}

static PyObject *Scanner_get_lines(Scanner *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLongLong(self->lines);
}

static PyMethodDef Scanner_methods[] = {
    {"feed", (PyCFunction)Scanner_feed, METH_O, feed_doc},
    {"finish", (PyCFunction)Scanner_finish, METH_NOARGS, finish_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Scanner_getset[] = {
    {"reason", (getter)Scanner_get_reason, NULL, "Why the scanner gave up, or None.", NULL},
    {"lines", (getter)Scanner_get_lines, NULL, "Lines (records) ended so far.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Scanner_doc,
"RecordScanner(delimiter, num_columns, *, max_row_bytes=8 MiB)\n\n"
"Lines (records, a header included) of delimited text fed in blocks of bytes, or None\n"
"when the text is not well-formed RFC 4180 with num_columns (>= 2) fields per record.\n"
"``delimiter`` is one ASCII character other than a quote, CR or LF. The same rules as\n"
"notifier.inspection.datasets.csv_count.RecordCounter.");

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "notifier.inspection.datasets._csvscan.RecordScanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Scanner_doc,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
};

static struct PyModuleDef csvscan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_csvscan",
    .m_doc = "Exact CSV record counting for well-formed RFC 4180 text (see RecordScanner).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__csvscan(void)
{
    if (PyType_Ready(&ScannerType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&csvscan_module);
    if (module == NULL)
        return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(module, "RecordScanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
