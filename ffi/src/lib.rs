//! C ABI of entropic-transport (work in progress).
