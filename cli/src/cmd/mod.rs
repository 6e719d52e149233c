//! One module per `sockframe` command.

pub(crate) mod bench;
pub(crate) mod decode;
pub(crate) mod demo;
pub(crate) mod encode;
pub(crate) mod listen;
pub(crate) mod relay;
pub(crate) mod replay;
pub(crate) mod send;
mod skiplog;
