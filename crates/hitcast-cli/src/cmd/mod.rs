//! One module per subcommand group.

pub mod bench;
pub mod bench_serve;
pub mod data;
pub mod eda;
pub mod experiment;
pub mod explain;
pub mod features;
pub mod model;
pub mod predict;
pub mod report;
pub mod run;
pub mod serve;
pub mod train;
