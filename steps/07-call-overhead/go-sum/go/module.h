// What both halves of the module share: the Python C API, and the two C helpers Go calls.
#define Py_LIMITED_API 0x030A0000
#include <Python.h>

int parse_two_long_longs(PyObject *args, long long *a, long long *b);
PyObject *raise_overflow(void);
