//! Placeholder: the chapter's main crate (the raw half) replaces it.
