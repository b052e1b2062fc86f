//! Stage 1: chapter 2's foo.c, unchanged (foo.c is a link to it), compiled into a Rust cdylib.
//! There is no Rust code yet.
