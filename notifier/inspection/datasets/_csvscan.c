/* PLACEHOLDER for the compiled CSV record scanner (replaced by the real scanner).
 * Module notifier.inspection.datasets._csvscan: version() -> 1. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
version(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(1);
}

static PyMethodDef methods[] = {
    {"version", version, METH_NOARGS, "The scanner's interface version."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_csvscan", "Compiled CSV record scanner.", -1, methods,
};

PyMODINIT_FUNC
PyInit__csvscan(void)
{
    return PyModule_Create(&module);
}
