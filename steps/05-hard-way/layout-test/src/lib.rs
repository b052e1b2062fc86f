// ANCHOR: all
//! The hand-written C API declarations of `no-ffi` must lay out memory exactly as pyo3-ffi's do
//! (which PyO3 checks against CPython's headers). This crate compiles `no-ffi/src/ffi.rs` on its
//! own (it only declares, so nothing here needs libpython to link) and compares the two.

#[allow(dead_code, reason = "only the layouts are compared")]
#[path = "../../no-ffi/src/ffi.rs"]
mod ours;

#[cfg(test)]
mod tests {
    use super::ours;
    use pyo3_ffi as theirs;
    use std::mem::{align_of, offset_of, size_of};

    // ANCHOR: check
    /// The size of a field's type, given an accessor for the field.
    fn field_size<T, F>(_field: fn(&T) -> &F) -> usize {
        size_of::<F>()
    }

    /// Same size, same alignment, and every listed field at the same offset with the same size.
    macro_rules! same_layout {
        ($ty:ident { $($field:ident),* }) => {{
            let name = stringify!($ty);
            assert_eq!(size_of::<ours::$ty>(), size_of::<theirs::$ty>(), "size of {name}");
            assert_eq!(align_of::<ours::$ty>(), align_of::<theirs::$ty>(), "alignment of {name}");
            $(assert_eq!(offset_of!(ours::$ty, $field), offset_of!(theirs::$ty, $field),
                         "offset of {name}.{}", stringify!($field));
              assert_eq!(field_size(|s: &ours::$ty| &s.$field),
                         field_size(|s: &theirs::$ty| &s.$field),
                         "size of {name}.{}", stringify!($field));)*
        }};
    }

    #[test]
    fn layouts_match_pyo3_ffi() {
        same_layout!(PyObject { ob_refcnt, ob_type });
        same_layout!(PyMethodDef { ml_name, ml_meth, ml_flags, ml_doc });
        same_layout!(PyModuleDef_Base { ob_base, m_init, m_index, m_copy });
        same_layout!(PyModuleDef {
            m_base,
            m_name,
            m_doc,
            m_size,
            m_methods,
            m_slots,
            m_traverse,
            m_clear,
            m_free
        });
    }
    // ANCHOR_END: check

    #[test]
    fn constants_match_pyo3_ffi() {
        assert_eq!(ours::METH_VARARGS, theirs::METH_VARARGS);
        assert_eq!(ours::PYTHON_ABI_VERSION, theirs::PYTHON_ABI_VERSION);
        assert_eq!(ours::PyModuleDef_HEAD_INIT.m_index, theirs::PyModuleDef_HEAD_INIT.m_index);
        assert_eq!(ours::PyModuleDef_HEAD_INIT.ob_base.ob_refcnt, 1);
    }
}
// ANCHOR_END: all
