// ANCHOR: all
#define Py_LIMITED_API 0x030A0000
#include <Python.h>

/* Defined in Rust, in src/lib.rs. */
PyObject *foo_sum(PyObject *self, PyObject *args);

static PyMethodDef FooMethods[] = {
    {"sum", foo_sum, METH_VARARGS, "Add two numbers."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef foomodule = {
    PyModuleDef_HEAD_INIT,
    .m_name = "foo",
    .m_doc = NULL,
    .m_size = -1,
    .m_methods = FooMethods,
};

/* Called by PyInit_foo, which is defined (and exported) in Rust. */
PyObject *
foo_module_create(void)
{
    return PyModule_Create(&foomodule);
}
// ANCHOR_END: all
