// ANCHOR: all
// The C half of the go_sum module: what cgo cannot express, next to the method table.
#include "module.h"
#include "_cgo_export.h" /* written by cgo: declares the Go function sum for C */

/* cgo cannot call a variadic C function such as PyArg_ParseTuple; this fixed-arity one can be. */
int parse_two_long_longs(PyObject *args, long long *a, long long *b)
{
    return PyArg_ParseTuple(args, "LL", a, b);
}

PyObject *raise_overflow(void)
{
    PyErr_SetString(PyExc_OverflowError, "sum does not fit in a 64-bit signed integer");
    return NULL;
}

static PyMethodDef Methods[] = {
    {"sum", sum, METH_VARARGS, "Add two numbers."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "go_sum",
    .m_size = -1,
    .m_methods = Methods,
};

PyMODINIT_FUNC PyInit_go_sum(void)
{
    return PyModule_Create(&module);
}
// ANCHOR_END: all
