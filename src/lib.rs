//! stevedore keeps Docker containers running the way their owner declared them.
pub mod engine;
pub mod labels;
pub mod policy;
pub mod spec;
pub use policy::RestartPolicy;
pub use spec::UnitSpec;
