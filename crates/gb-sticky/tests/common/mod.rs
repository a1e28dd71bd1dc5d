//! Test support: the throwaway `redis-server` and its skip/fail rule live in
//! `gb_redis::testing` (shared with gb-transport's and gb-sdk's Redis tests).
#![allow(unused_imports, unreachable_pub)]

pub(crate) use gb_redis::testing::*;
