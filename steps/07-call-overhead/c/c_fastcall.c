// ANCHOR: all
#define Py_LIMITED_API 0x030A0000 /* METH_FASTCALL is in the stable ABI since 3.10 */
#include <Python.h>

// ANCHOR: sum
static PyObject *
sum(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    long long a, b, result;

    (void)self;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "sum expected 2 arguments, got %zd", nargs);
        return NULL;
    }
    a = PyLong_AsLongLong(args[0]); /* TypeError for a non-integer, OverflowError if too big */
    if (a == -1 && PyErr_Occurred())
        return NULL;
    b = PyLong_AsLongLong(args[1]);
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
    /* The table's type is for METH_VARARGS functions: cast through void (*)(void) to say so. */
    {"sum", (PyCFunction)(void (*)(void))sum, METH_FASTCALL, "Add two numbers."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "c_fastcall",
    .m_size = -1,
    .m_methods = Methods,
};

PyMODINIT_FUNC
PyInit_c_fastcall(void)
{
    return PyModule_Create(&module);
}
// ANCHOR_END: all
