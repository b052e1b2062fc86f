// ANCHOR: all
#define Py_LIMITED_API 0x030A0000
#include <Python.h>

static PyObject *
sum(PyObject *self, PyObject *args)
{
    long long a, b, result;

    (void)self;
    if (!PyArg_ParseTuple(args, "LL", &a, &b))
        return NULL;
    if (__builtin_add_overflow(a, b, &result)) {
        PyErr_SetString(PyExc_OverflowError, "sum does not fit in a 64-bit signed integer");
        return NULL;
    }
    return PyLong_FromLongLong(result);
}

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

// ANCHOR: create
/* Was PyInit_foo. Now an ordinary function: the Rust side exports PyInit_foo and calls it. */
PyObject *
foo_module_create(void)
{
    return PyModule_Create(&foomodule);
}
// ANCHOR_END: create
// ANCHOR_END: all
