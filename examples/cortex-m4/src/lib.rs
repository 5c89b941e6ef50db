//! Cortex-M4 firmware example (work in progress).
#![no_std]
