//! What ends a command unsuccessfully, and how it maps to the exit status.

use std::io;
use std::time::Duration;

use sockframe::TransportError;

/// What ends a command unsuccessfully.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad arguments: exit status 2.
    Usage(String),
    /// Anything at run time: exit status 1.
    Runtime(String),
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Runtime(e.to_string())
    }
}

impl From<TransportError> for CliError {
    fn from(e: TransportError) -> Self {
        CliError::Runtime(e.to_string())
    }
}

/// A number of seconds from the command line.
pub(crate) fn seconds(secs: f64, what: &str) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| CliError::Usage(format!("{what} must be a positive number of seconds")))
}
