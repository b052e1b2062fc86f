/* Broken on purpose, for the reliability suite's own tests of its kinds of hostile input
 * (tests/test_ch06_reliability.py compiles it against the book's Python headers and expects each
 * kind to catch its fault). Each fault is one that chapters 10 and 11 could make. Not part of
 * the book.
 *
 *   Ring       a mutable type (a patched __new__ makes an instance that tp_new never saw, and
 *              its dealloc counts it out of live() anyway); a repr that trusts __name__ to be a
 *              str; a dealloc that frees its items from inside itself, with no trashcan; a push
 *              that aborts when realloc fails, as Rust's allocator does
 *   sum_kw     reads its keyword arguments as borrowed references, converting one after another
 *   count      reads its arguments without checking that the array is not NULL (it aborts, as
 *              Rust's check of slice::from_raw_parts does in a debug build)
 *   stall      never returns when called while the interpreter finalises
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static Py_ssize_t live;

typedef struct {
    PyObject_HEAD
    Py_ssize_t capacity, len, allocated;
    PyObject **items;
} Ring;

static PyObject *ring_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"capacity", NULL};
    Py_ssize_t capacity;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "n", names, &capacity))
        return NULL;
    if (capacity < 1) {
        PyErr_SetString(PyExc_ValueError, "capacity must be at least 1");
        return NULL;
    }
    allocfunc alloc = (allocfunc)PyType_GetSlot(type, Py_tp_alloc);
    Ring *r = (Ring *)alloc(type, 0);
    if (r == NULL)
        return NULL;
    r->capacity = capacity;
    live++;
    return (PyObject *)r;
}

static int ring_traverse(PyObject *self, visitproc visit, void *arg) {
    Ring *r = (Ring *)self;
    for (Py_ssize_t i = 0; i < r->len; i++)
        Py_VISIT(r->items[i]);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int ring_clear(PyObject *self) {
    Ring *r = (Ring *)self;
    Py_ssize_t n = r->len;
    r->len = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        Py_DecRef(r->items[i]);
    return 0;
}

static void ring_dealloc(PyObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    live--;                      /* whether or not ring_new counted it */
    ring_clear(self);            /* recursion: an item that is a Ring is freed in here */
    free(((Ring *)self)->items);
    freefunc tp_free = (freefunc)PyType_GetSlot(type, Py_tp_free);
    tp_free(self);
    Py_DecRef((PyObject *)type);
}

static PyObject *ring_push(PyObject *self, PyObject *item) {
    Ring *r = (Ring *)self;
    PyObject *evicted = NULL;
    if (r->len > 0 && r->len == r->capacity) {
        evicted = r->items[0];
        memmove(r->items, r->items + 1, (size_t)(r->len - 1) * sizeof(PyObject *));
        r->len--;
    }
    if (r->len == r->allocated) {
        Py_ssize_t more = r->allocated ? 2 * r->allocated : 4;
        PyObject **items = realloc(r->items, (size_t)more * sizeof(PyObject *));
        if (items == NULL)
            abort();
        r->items = items;
        r->allocated = more;
    }
    Py_IncRef(item);
    r->items[r->len++] = item;
    if (evicted)
        return evicted;
    Py_IncRef(Py_None);
    return Py_None;
}

static PyObject *ring_repr(PyObject *self) {
    PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "__name__");
    if (name == NULL)
        return NULL;
    PyObject *repr = PyUnicode_FromFormat("%U(%zd)", name, ((Ring *)self)->capacity);
    Py_DecRef(name);
    return repr;
}

static PyMethodDef ring_methods[] = {
    {"push", ring_push, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot ring_slots[] = {
    {Py_tp_new, ring_new},       {Py_tp_dealloc, ring_dealloc}, {Py_tp_traverse, ring_traverse},
    {Py_tp_clear, ring_clear},   {Py_tp_repr, ring_repr},       {Py_tp_methods, ring_methods},
    {0, NULL},
};

static PyType_Spec ring_spec = {
    "kinds_broken.Ring", sizeof(Ring), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, ring_slots,
};

static PyObject *live_count(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    return PyLong_FromSsize_t(live);
}

static PyObject *sum_kw(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    PyObject *a = NULL, *b = NULL;
    if (PyTuple_Size(args) == 2) {
        a = PyTuple_GetItem(args, 0);
        b = PyTuple_GetItem(args, 1);
    } else if (PyTuple_Size(args) == 0 && kwargs != NULL) {
        a = PyDict_GetItemString(kwargs, "a");
        b = PyDict_GetItemString(kwargs, "b");
    }
    if (a == NULL || b == NULL) {
        PyErr_SetString(PyExc_TypeError, "sum_kw() missing required argument 'a' or 'b'");
        return NULL;
    }
    long x = PyLong_AsLong(a); /* may run a's __index__, which may free b */
    if (x == -1 && PyErr_Occurred())
        return NULL;
    long y = PyLong_AsLong(b);
    if (y == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLong(x + y);
}

static PyObject *count(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (args == NULL)
        abort();
    return PyLong_FromSsize_t(nargs);
}

static PyObject *stall(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    PyObject *is_finalizing = PySys_GetObject("is_finalizing");
    PyObject *now = is_finalizing ? PyObject_CallObject(is_finalizing, NULL) : NULL;
    int finalizing = now == Py_True;
    Py_XDECREF(now);
    if (finalizing) {
        Py_BEGIN_ALLOW_THREADS
        for (;;)
            pause();
        Py_END_ALLOW_THREADS
    }
    PyErr_Clear();
    Py_IncRef(Py_None);
    return Py_None;
}

static PyMethodDef functions[] = {
    {"live", live_count, METH_NOARGS, NULL},
    {"sum_kw", (PyCFunction)(void (*)(void))sum_kw, METH_VARARGS | METH_KEYWORDS, NULL},
    {"count", (PyCFunction)(void (*)(void))count, METH_FASTCALL, NULL},
    {"stall", stall, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "kinds_broken", NULL, -1, functions, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_kinds_broken(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    PyObject *ring = PyType_FromSpec(&ring_spec);
    if (ring == NULL || PyModule_AddObject(m, "Ring", ring) < 0) {
        Py_XDECREF(ring);
        Py_DecRef(m);
        return NULL;
    }
    return m;
}
