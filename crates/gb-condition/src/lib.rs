//! GrowthBook targeting conditions.
#![no_std]
extern crate alloc;
