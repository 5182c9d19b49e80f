//! The `idscope` binary (being assembled).
fn main() {}
