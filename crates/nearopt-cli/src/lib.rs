//! The `nearopt` command line as a library: the commands (each `Args` + `run`), the file
//! formats and safe writing ([`io`]), the output gate ([`guard`]), plots and the HTML report.
//! The binary (`main.rs`) only parses the command line and dispatches; the Python package
//! (`crates/nearopt-py`) writes files, figures and reports through the same code.

pub mod commands;
pub mod guard;
pub mod io;
pub mod plot;
pub mod plot_density;
pub mod report;
