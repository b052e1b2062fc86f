/* Leaks on purpose, for the reference-leak check's own tests (tests/test_refleaks.py), which
 * compile it against the book's Python headers: each function takes one argument and returns
 * None, and keeps something each time, or each fifth time, it is called. Not part of the book. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Calls so far, per function: a leak of one call in five is one of every 5th call. */
static unsigned long fifth_bytes_calls, fifth_ref_calls;

/* None, with a new reference. Not Py_RETURN_NONE: compiled against a release build's headers,
 * its Py_INCREF is not counted by a debug build up to 3.11 (where None is not immortal), while
 * the caller's Py_DECREF is, so that every call would seem to give back one reference. */
static PyObject *none(void) {
    Py_IncRef(Py_None);
    return Py_None;
}

/* Eight bytes from Python's allocator, never freed: a block per call, and no reference. */
static PyObject *bytes_every_call(PyObject *self, PyObject *arg) {
    (void)self, (void)arg;
    if (PyMem_Malloc(8) == NULL)
        return PyErr_NoMemory();
    return none();
}

/* The same, on every fifth call only: 40 blocks in a round of 200 calls. */
static PyObject *bytes_every_fifth_call(PyObject *self, PyObject *arg) {
    (void)self, (void)arg;
    if (++fifth_bytes_calls % 5 == 0 && PyMem_Malloc(8) == NULL)
        return PyErr_NoMemory();
    return none();
}

/* A reference to the argument taken on every fifth call and never given back. Py_IncRef is the
 * interpreter's own function, so a debug build counts it in sys.gettotalrefcount(). */
static PyObject *ref_every_fifth_call(PyObject *self, PyObject *arg) {
    (void)self;
    if (++fifth_ref_calls % 5 == 0)
        Py_IncRef(arg);
    return none();
}

static PyMethodDef methods[] = {
    {"bytes_every_call", bytes_every_call, METH_O, NULL},
    {"bytes_every_fifth_call", bytes_every_fifth_call, METH_O, NULL},
    {"ref_every_fifth_call", ref_every_fifth_call, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "leaky", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_leaky(void) {
    return PyModule_Create(&module);
}
