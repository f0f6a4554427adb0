//! One module per subcommand: each has `Args` (clap) and `run`.

pub mod bench;
pub mod density;
pub mod hessian;
pub mod rank;
pub mod reproduce;
pub mod spectrum;
pub mod student;
pub mod teacher;
pub mod train;
