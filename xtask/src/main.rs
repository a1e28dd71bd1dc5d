//! Project tasks (see <https://github.com/matklad/cargo-xtask>).
fn main() {}
