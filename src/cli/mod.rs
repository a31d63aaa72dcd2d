//! The pieces of the `aec` binary.

pub mod args;
pub mod batch;
pub mod colorize;
pub mod commands;
pub mod features;
pub mod io;
pub mod memory;

/// The device the networks run on, chosen once by `--backend` (flex until then).
static DEVICE: std::sync::OnceLock<burn::prelude::Device> = std::sync::OnceLock::new();

/// Chooses the device for the rest of the process (the first choice stands).
pub fn set_device(device: burn::prelude::Device) {
    let _ = DEVICE.set(device);
}

/// The device chosen with `--backend`.
pub fn device() -> burn::prelude::Device {
    DEVICE.get_or_init(burn::prelude::Device::flex).clone()
}

/// The process exit code for an error (see the binary's documentation).
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<io::WouldOverwrite>().is_some() {
        return 5;
    }
    match error.downcast_ref::<aec::Error>() {
        Some(aec::Error::Format(_) | aec::Error::Image { .. } | aec::Error::Idx { .. } | aec::Error::TooLarge { .. }) => 3,
        Some(aec::Error::UnknownModel { .. }) => 4,
        Some(aec::Error::InvalidArgument(_)) => 2,
        _ => 1,
    }
}

/// One line for an error: its context and causes joined by ": ", each said once (a cause that
/// its parent's message already quotes is not repeated).
pub fn message(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
