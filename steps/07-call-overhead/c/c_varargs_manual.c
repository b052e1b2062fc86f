// ANCHOR: all
#define Py_LIMITED_API 0x030A0000
#include <Python.h>

// ANCHOR: sum
/* A control for the table: chapter 2's METH_VARARGS function, with the argument tuple unpacked by
   hand instead of by PyArg_ParseTuple's format string. */
static PyObject *
sum(PyObject *self, PyObject *args)
{
    long long a, b, result;
    Py_ssize_t nargs = PyTuple_Size(args); /* args is always a tuple for METH_VARARGS */

    (void)self;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "sum expected 2 arguments, got %zd", nargs);
        return NULL;
    }
    a = PyLong_AsLongLong(PyTuple_GetItem(args, 0)); /* a borrowed reference */
    if (a == -1 && PyErr_Occurred())
        return NULL;
    b = PyLong_AsLongLong(PyTuple_GetItem(args, 1));
    if (b == -1 && PyErr_Occurred())
        return NULL;

    if (__builtin_add_overflow(a, b, &result)) {
        PyErr_SetString(PyExc_OverflowError, "sum does not fit in a 64-bit signed integer");
        return NULL;
    }
    return PyLong_FromLongLong(result);
}
// ANCHOR_END: sum

static PyMethodDef Methods[] = {
    {"sum", sum, METH_VARARGS, "Add two numbers."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "c_varargs_manual",
    .m_size = -1,
    .m_methods = Methods,
};

PyMODINIT_FUNC
PyInit_c_varargs_manual(void)
{
    return PyModule_Create(&module);
}
// ANCHOR_END: all
