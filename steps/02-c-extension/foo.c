// ANCHOR: all
/* The stable ABI of CPython 3.10: it works, unchanged, on 3.10 and every later GIL build. */
#define Py_LIMITED_API 0x030A0000
#include <Python.h>

// ANCHOR: sum
static PyObject *
sum(PyObject *self, PyObject *args)
{
    long long a, b, result;

    (void)self; /* the module object: unused */
    if (!PyArg_ParseTuple(args, "LL", &a, &b))
        return NULL; /* PyArg_ParseTuple has set TypeError or OverflowError */

    if (__builtin_add_overflow(a, b, &result)) {
        PyErr_SetString(PyExc_OverflowError, "sum does not fit in a 64-bit signed integer");
        return NULL;
    }
    return PyLong_FromLongLong(result);
}
// ANCHOR_END: sum

static PyMethodDef FooMethods[] = {
    {"sum", sum, METH_VARARGS, "Add two numbers."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef foomodule = {
    PyModuleDef_HEAD_INIT,
    .m_name = "foo",
    .m_doc = NULL,
    .m_size = -1,
    .m_methods = FooMethods,
};

PyMODINIT_FUNC
PyInit_foo(void)
{
    return PyModule_Create(&foomodule);
}
// ANCHOR_END: all
