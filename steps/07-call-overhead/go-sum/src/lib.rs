//! Chapter 7 has no Rust code here: `build.rs` builds the Go module in `go/` when Go is on PATH.
