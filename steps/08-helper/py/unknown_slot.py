# ANCHOR: all
"""What this CPython does with a module definition that carries each slot number."""
import ctypes
import importlib.machinery
import sys


class Slot(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_int), ("value", ctypes.c_void_p)]


class ModuleDef(ctypes.Structure):  # PyModuleDef: a 40-byte header, then its fields
    _fields_ = [("m_base", ctypes.c_byte * 40), ("m_name", ctypes.c_char_p),
                ("m_doc", ctypes.c_char_p), ("m_size", ctypes.c_ssize_t),
                ("m_methods", ctypes.c_void_p), ("m_slots", ctypes.POINTER(Slot)),
                ("m_traverse", ctypes.c_void_p), ("m_clear", ctypes.c_void_p),
                ("m_free", ctypes.c_void_p)]


api = ctypes.pythonapi
api.PyModuleDef_Init.restype = api.PyModule_FromDefAndSpec2.restype = ctypes.py_object
api.PyModule_FromDefAndSpec2.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.c_int]
print(f"CPython {sys.version_info[0]}.{sys.version_info[1]}:")
# 3: Py_mod_multiple_interpreters, 2 = per-interpreter GIL supported; 4: Py_mod_gil, 0 = used
for number, value in [(3, 2), (4, 0)]:
    slots = (Slot * 2)(Slot(number, value), Slot(0, None))
    definition = ModuleDef(m_name=b"probe", m_slots=slots)
    api.PyModuleDef_Init(ctypes.byref(definition))
    spec = importlib.machinery.ModuleSpec("probe", None)
    try:
        api.PyModule_FromDefAndSpec2(ctypes.byref(definition), spec, 1013)
        print(f"  slot {number}: accepted")
    except SystemError as e:
        print(f"  slot {number}: SystemError: {e}")
# ANCHOR_END: all
