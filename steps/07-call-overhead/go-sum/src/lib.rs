//! Chapter 7 has no Rust code here: `build.rs` builds the Go module in `go/` with the Go on PATH.
