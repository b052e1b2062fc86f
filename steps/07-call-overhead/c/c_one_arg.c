// ANCHOR: all
#define Py_LIMITED_API 0x030A0000
#include <Python.h>

/* A control for the table: one function of one argument, twice(x) = 2x, under the two calling
   conventions that suit it. The bodies are the same; only the way the argument arrives differs. */

// ANCHOR: twice
static PyObject *
twice(PyObject *x)
{
    long long value = PyLong_AsLongLong(x), result;

    if (value == -1 && PyErr_Occurred())
        return NULL;
    if (__builtin_mul_overflow(value, 2, &result)) {
        PyErr_SetString(PyExc_OverflowError, "twice does not fit in a 64-bit signed integer");
        return NULL;
    }
    return PyLong_FromLongLong(result);
}

/* METH_O: CPython checks that there is exactly one argument and passes it alone. */
static PyObject *
twice_o(PyObject *self, PyObject *x)
{
    (void)self;
    return twice(x);
}

/* METH_FASTCALL: an array and its length, checked here. */
static PyObject *
twice_fastcall(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 1) {
        PyErr_Format(PyExc_TypeError, "twice_fastcall expected 1 argument, got %zd", nargs);
        return NULL;
    }
    return twice(args[0]);
}
// ANCHOR_END: twice

static PyMethodDef Methods[] = {
    {"twice_o", twice_o, METH_O, "Double a number."},
    {"twice_fastcall", (PyCFunction)(void (*)(void))twice_fastcall, METH_FASTCALL,
     "Double a number."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "c_one_arg",
    .m_size = -1,
    .m_methods = Methods,
};

PyMODINIT_FUNC
PyInit_c_one_arg(void)
{
    return PyModule_Create(&module);
}
// ANCHOR_END: all
