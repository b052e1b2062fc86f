// ANCHOR: all
//! Chapter 11's hot loop, in plain Rust: a histogram of bytes (how many of each value 0 to 255),
//! and a plain read of every byte to compare it with. Nothing here knows about Python.
//!
//! The bytes may belong to a Python object that another Python thread writes while we count
//! (a `bytearray`, say). A `&[u8]` would promise Rust that they do not change, and the compiler
//! may rely on that; so they are read through atomics, which tell it that they may change. No
//! memory model makes the race itself defined (the writer is C code doing plain stores), but
//! each load is one aligned load instruction, and on the targets this crate builds for (below)
//! such a load reads every byte whole: each byte is counted once, old value or new.

use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering::Relaxed};

// The bytes may be read-only memory (a `PROT_READ` mapping, a `static`). Rust allows relaxed
// atomic loads of read-only memory only up to a size limit per target (`core::sync::atomic`,
// "Atomic accesses to read-only memory"): 8 bytes, the size of a word here, on these targets.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "loongarch64",
    target_arch = "mips64",
    target_arch = "mips64r6",
    target_arch = "powerpc64",
    target_arch = "riscv64",
    target_arch = "sparc64",
    target_arch = "s390x",
)))]
compile_error!("this target allows no 8-byte atomic loads of read-only memory");

// ANCHOR: shared
/// A histogram: `counts[b]` is how many bytes had the value `b`.
pub type Counts = [u64; 256];

/// Bytes that other threads may write while we read them: in effect a `&'a [AtomicU8]`.
#[derive(Clone, Copy, Debug)]
pub struct Bytes<'a> {
    start: NonNull<u8>,
    len: usize,
    _borrow: PhantomData<&'a [AtomicU8]>,
}

// SAFETY: a `Bytes` is only ever read, and only through atomic loads, like a `&[AtomicU8]`,
// which is `Send` and `Sync`.
unsafe impl Send for Bytes<'_> {}
unsafe impl Sync for Bytes<'_> {}

impl<'a> Bytes<'a> {
    /// The `len` bytes at `start`.
    ///
    /// # Safety
    /// For all of `'a`, the bytes are readable memory and stay where they are: nobody frees or
    /// moves them. Other threads may write them (and only that).
    pub unsafe fn from_raw(start: *const u8, len: usize) -> Bytes<'a> {
        let start = match NonNull::new(start.cast_mut()) {
            Some(start) => start,
            None => NonNull::dangling(), // only an empty buffer may have no address
        };
        Bytes { start, len, _borrow: PhantomData }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    // ANCHOR_END: shared

    /// The first `mid` bytes and the rest.
    fn split_at(self, mid: usize) -> (Bytes<'a>, Bytes<'a>) {
        assert!(mid <= self.len);
        // SAFETY: both halves lie inside `self`, whose promise they inherit.
        let rest = unsafe { NonNull::new_unchecked(self.start.as_ptr().add(mid)) };
        (Bytes { len: mid, ..self }, Bytes { start: rest, len: self.len - mid, ..self })
    }

    // ANCHOR: split
    /// `parts` pieces of about the same length, in order, that together are `self`. Each
    /// boundary falls on an address that is a multiple of 8, so that every piece but the first
    /// starts on a whole word: only the first and the last have bytes that are read one by one.
    pub fn split(self, parts: usize) -> Vec<Bytes<'a>> {
        let mut pieces = Vec::with_capacity(parts);
        let mut rest = self;
        for left in (1..=parts.max(1)).rev() {
            let mut mid = rest.len / left;
            let address = rest.start.as_ptr() as usize + mid;
            mid = (mid + address.wrapping_neg() % 8).min(rest.len);
            let (piece, tail) = rest.split_at(mid);
            pieces.push(piece);
            rest = tail;
        }
        pieces
    }
    // ANCHOR_END: split

    /// The bytes before the first address that is a multiple of 8, the 8-byte words from there,
    /// and the bytes after the last whole word.
    fn as_atomics(self) -> (&'a [AtomicU8], &'a [AtomicU64], &'a [AtomicU8]) {
        let address = self.start.as_ptr() as usize;
        let head = (address.wrapping_neg() % 8).min(self.len);
        let words = (self.len - head) / 8;
        let tail = self.len - head - 8 * words;
        let start = self.start.as_ptr();
        // SAFETY: the three ranges lie inside the bytes, which are readable for 'a (the promise
        // of `from_raw`), and the words' start is a multiple of 8 when there are words. Atomics
        // have the size and layout of the plain integers, and may be shared with writers, which
        // is the point; relaxed loads of them may read read-only memory (the targets at the top).
        unsafe {
            (
                std::slice::from_raw_parts(start.cast::<AtomicU8>(), head),
                if words == 0 {
                    &[]
                } else {
                    std::slice::from_raw_parts(start.add(head).cast::<AtomicU64>(), words)
                },
                std::slice::from_raw_parts(start.add(head + 8 * words).cast::<AtomicU8>(), tail),
            )
        }
    }

    // ANCHOR: count
    /// The histogram of these bytes, or `None` if `stop` was set before the end. It looks at
    /// `stop` after each mebibyte: about half a millisecond of work.
    pub fn count(self, stop: &AtomicBool) -> Option<Counts> {
        let (head, words, tail) = self.as_atomics();
        let mut counts = [0u64; 256];
        for byte in head.iter().chain(tail) {
            counts[usize::from(byte.load(Relaxed))] += 1;
        }
        for chunk in words.chunks(CHUNK_WORDS) {
            if stop.load(Relaxed) {
                return None;
            }
            // Four tables, so that bytes in a row with the same value do not all wait on one
            // counter; u32 is enough for a chunk, and halves the tables' size in the cache.
            let mut tables = Tables([[0u32; 256]; 4]);
            let tables = &mut tables.0;
            for word in chunk {
                let w = word.load(Relaxed);
                for (i, table) in tables.iter_mut().enumerate() {
                    table[(w >> (8 * i) & 0xff) as usize] += 1;
                    table[(w >> (8 * i + 32) & 0xff) as usize] += 1;
                }
            }
            for (value, total) in counts.iter_mut().enumerate() {
                *total += tables.iter().map(|t| u64::from(t[value])).sum::<u64>();
            }
        }
        Some(counts)
    }
    // ANCHOR_END: count

    // ANCHOR: parity
    /// The XOR of all the bytes, or `None` if `stop` was set before the end: a loop that only
    /// reads, as fast as memory can deliver, to compare `count` with.
    pub fn parity(self, stop: &AtomicBool) -> Option<u8> {
        let (head, words, tail) = self.as_atomics();
        // Eight running XORs, so that eight loads are in flight at once.
        let mut acc = [0u64; 8];
        for chunk in words.chunks(CHUNK_WORDS) {
            if stop.load(Relaxed) {
                return None;
            }
            let mut eights = chunk.chunks_exact(8);
            for eight in &mut eights {
                for (a, word) in acc.iter_mut().zip(eight) {
                    *a ^= word.load(Relaxed);
                }
            }
            for (a, word) in acc.iter_mut().zip(eights.remainder()) {
                *a ^= word.load(Relaxed);
            }
        }
        let word = acc.iter().fold(0, |x, a| x ^ a);
        let bytes = head.iter().chain(tail).fold(0, |x, b| x ^ b.load(Relaxed));
        Some(word.to_le_bytes().iter().fold(bytes, |x, b| x ^ b))
    }
    // ANCHOR_END: parity
}

impl<'a> From<&'a [u8]> for Bytes<'a> {
    /// Bytes that nobody writes (even read-only memory: see the targets at the top).
    fn from(bytes: &'a [u8]) -> Bytes<'a> {
        // SAFETY: the borrow keeps the bytes alive and in place for 'a.
        unsafe { Bytes::from_raw(bytes.as_ptr(), bytes.len()) }
    }
}

/// Four tables of counts, on a cache line's boundary.
#[repr(align(64))]
struct Tables([[u32; 256]; 4]);

/// The words between two looks at `stop`: 1 MiB.
const CHUNK_WORDS: usize = 1 << 17;

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: &[u8]) -> Counts {
        let mut counts = [0; 256];
        for &b in bytes {
            counts[usize::from(b)] += 1;
        }
        counts
    }

    /// Bytes that are not all alike, from a small generator with a fixed seed.
    fn sample(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn counts_like_the_plain_loop_at_every_offset_and_length() {
        let data = sample(3 * CHUNK_WORDS * 8 + 100);
        let go = AtomicBool::new(false);
        for offset in 0..9 {
            for len in [0, 1, 7, 8, 9, 15, 16, 17, 1000, 3 * CHUNK_WORDS * 8 + 91 - offset] {
                let piece = &data[offset..offset + len];
                assert_eq!(Bytes::from(piece).count(&go), Some(naive(piece)), "{offset} {len}");
                let xor = piece.iter().fold(0, |x, b| x ^ b);
                assert_eq!(Bytes::from(piece).parity(&go), Some(xor), "{offset} {len}");
            }
        }
    }

    #[test]
    fn a_byte_repeated_in_every_position() {
        let data = vec![0xab; 10_000];
        let counts = Bytes::from(&data[3..]).count(&AtomicBool::new(false)).unwrap();
        assert_eq!(counts[0xab], 9_997);
        assert_eq!(counts.iter().sum::<u64>(), 9_997);
    }

    #[test]
    fn split_covers_every_byte_once_at_word_boundaries() {
        let data = sample(100_003);
        for offset in 0..8 {
            for parts in [1, 2, 3, 7, 64] {
                let whole = Bytes::from(&data[offset..]);
                let pieces = whole.split(parts);
                assert_eq!(pieces.len(), parts);
                let mut at = whole.start.as_ptr();
                for (k, piece) in pieces.iter().enumerate() {
                    assert_eq!(piece.start.as_ptr(), at, "pieces follow each other");
                    at = at.wrapping_add(piece.len());
                    let end = whole.start.as_ptr().wrapping_add(whole.len());
                    if k + 1 < parts && !piece.is_empty() && at != end {
                        assert_eq!(at as usize % 8, 0, "a boundary inside the bytes is aligned");
                    }
                }
                assert_eq!(at, whole.start.as_ptr().wrapping_add(whole.len()));
                let go = AtomicBool::new(false);
                let mut sum = [0u64; 256];
                for piece in pieces {
                    for (s, c) in sum.iter_mut().zip(piece.count(&go).unwrap()) {
                        *s += c;
                    }
                }
                assert_eq!(sum, naive(&data[offset..]));
            }
        }
    }

    #[test]
    fn pieces_are_about_the_same_size() {
        let data = sample(1 << 20);
        let pieces = Bytes::from(&data[..]).split(2);
        assert!(pieces[0].len().abs_diff(pieces[1].len()) <= 8);
    }

    #[test]
    fn stop_ends_the_loop() {
        let data = sample(2 * CHUNK_WORDS * 8);
        let stop = AtomicBool::new(true);
        assert_eq!(Bytes::from(&data[..]).count(&stop), None);
        assert_eq!(Bytes::from(&data[..]).parity(&stop), None);
    }

    #[test]
    fn empty_from_no_address() {
        // SAFETY: no bytes are read.
        let empty = unsafe { Bytes::from_raw(std::ptr::null(), 0) };
        assert_eq!(empty.count(&AtomicBool::new(false)), Some([0; 256]));
        assert_eq!(empty.split(3).len(), 3);
    }
}
// ANCHOR_END: all
