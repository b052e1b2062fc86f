// ANCHOR: all
//! Docstrings built at compile time: a function's `///` lines, and its signature for
//! `inspect.signature`, as one C string.

use crate::args::Signature;

/// The length of the docstring that [`doc_bytes`] writes, NUL included.
pub const fn doc_len(sig: Option<&Signature>, lines: &[&str]) -> usize {
    doc_write(sig, lines, &mut [])
}

/// A docstring from `///` lines (each without its first space), as C wants it. With a signature,
/// it starts with `name($module, a, b=None, /)\n--\n\n`, from which CPython makes the function's
/// `__text_signature__` (what `inspect.signature` reads) and leaves it out of `__doc__`.
pub const fn doc_bytes<const N: usize>(sig: Option<&Signature>, lines: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    doc_write(sig, lines, &mut out);
    out
}

const fn doc_write(sig: Option<&Signature>, lines: &[&str], out: &mut [u8]) -> usize {
    let mut n = 0;
    if let Some(sig) = sig {
        n = put(out, n, sig.name.as_bytes());
        n = put(out, n, b"($module");
        let mut i = 0;
        while i < sig.params.len() {
            n = put(out, n, b", ");
            n = put(out, n, sig.params[i].name.as_bytes());
            if sig.params[i].optional {
                n = put(out, n, b"=None");
            }
            i += 1;
        }
        if sig.positional_only && !sig.params.is_empty() {
            n = put(out, n, b", /");
        }
        n = put(out, n, b")\n--\n\n");
    }
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].as_bytes();
        let skip = if !line.is_empty() && line[0] == b' ' { 1 } else { 0 };
        if i > 0 {
            n = put(out, n, b"\n");
        }
        let mut j = skip;
        while j < line.len() {
            if line[j] == 0 {
                panic!("NUL in a docstring");
            }
            n = put(out, n, &[line[j]]);
            j += 1;
        }
        i += 1;
    }
    put(out, n, b"\0")
}

/// Writes `bytes` at `out[n..]` if `out` is long enough (the first pass only counts).
const fn put(out: &mut [u8], n: usize, bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        if n + i < out.len() {
            out[n + i] = bytes[i];
        }
        i += 1;
    }
    n + bytes.len()
}
// ANCHOR_END: all
